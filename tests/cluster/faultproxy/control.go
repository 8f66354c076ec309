package main

// The control API (docs/test-cluster.md): fault injection and the request log
// under /np-test/ on the proxy's HTTPS port, callable only with the admin
// token. A fault is answered by the proxy itself, so it never reaches the real
// kube-apiserver (a faulted write changes nothing); the log sees every API
// request that passes the proxy, with its final status.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

const controlPrefix = "/np-test/"

// fault is one injection rule: the next Count requests matching Method and
// Path (prefix) / PathRegex get Type instead of (or, for "delay", before)
// their real answer.
type fault struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"` // 500 429 409 401 503 ... | delay | drop
	Count       int    `json:"count"`
	Method      string `json:"method,omitempty"`
	Path        string `json:"path,omitempty"`
	PathRegex   string `json:"path_regex,omitempty"`
	User        string `json:"user,omitempty"`       // exact user name (token or client certificate)
	UserAgent   string `json:"user_agent,omitempty"` // User-Agent prefix
	RetryAfterS int    `json:"retry_after_s,omitempty"`
	DelayMs     int    `json:"delay_ms,omitempty"`
	Hits        int    `json:"hits"`
	re          *regexp.Regexp
}

// logEntry is one API request as the request log records it.
type logEntry struct {
	Seq         int64   `json:"seq"`
	Time        string  `json:"time"`
	Method      string  `json:"method"`
	Path        string  `json:"path"`
	Query       string  `json:"query"`
	User        string  `json:"user"`
	UserAgent   string  `json:"user_agent"`
	ContentType string  `json:"content_type"`
	Accept      string  `json:"accept"`
	Status      int     `json:"status"`
	Fault       string  `json:"fault,omitempty"`
	DurationMs  float64 `json:"duration_ms"`
}

type control struct {
	adminToken string
	ids        *identities

	mu     sync.Mutex
	faults []*fault
	nextID int64
	log    []logEntry
	seq    int64
}

const maxLog = 100000

func (c *control) take(r *http.Request, user string) *fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if f.User != "" && f.User != user {
			continue
		}
		if f.UserAgent != "" && !strings.HasPrefix(r.UserAgent(), f.UserAgent) {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if f.re != nil && !f.re.MatchString(r.URL.Path) {
			continue
		}
		f.Count--
		f.Hits++
		cp := *f
		if f.Count <= 0 {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
		}
		return &cp
	}
	return nil
}

func (c *control) record(e logEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	e.Seq = c.seq
	if len(c.log) >= maxLog {
		c.log = c.log[1:]
	}
	c.log = append(c.log, e)
}

// writeStatus answers like kube-apiserver does: a metav1.Status JSON body.
func writeStatus(w http.ResponseWriter, code int, reason, msg string, retryAfter int) {
	details := ""
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		details = fmt.Sprintf(`,"details":{"retryAfterSeconds":%d}`, retryAfter)
	}
	m, _ := json.Marshal(msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%s,"reason":"%s"%s,"code":%d}`+"\n",
		m, reason, details, code)
}

// injected answers a request with fault f; returns false when the request
// must go on to the real apiserver (after a delay).
func injected(w http.ResponseWriter, r *http.Request, f *fault) bool {
	switch f.Type {
	case "delay":
		select {
		case <-time.After(time.Duration(f.DelayMs) * time.Millisecond):
		case <-r.Context().Done():
		}
		return false
	case "drop":
		// net/http closes the connection (HTTP/1.1) or resets the stream
		// (HTTP/2) without writing a response.
		panic(http.ErrAbortHandler)
	case "401":
		writeStatus(w, 401, "Unauthorized", "Unauthorized", 0)
	case "409":
		writeStatus(w, 409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected)", 0)
	case "429":
		ra := f.RetryAfterS
		if ra <= 0 {
			ra = 1
		}
		writeStatus(w, 429, "TooManyRequests", "Too many requests, please try again later. (injected)", ra)
	case "500":
		writeStatus(w, 500, "InternalError", "Internal error occurred: injected", 0)
	default:
		code, _ := strconv.Atoi(f.Type)
		writeStatus(w, code, "InternalError", "injected "+f.Type, 0)
	}
	return true
}

// statusWriter records the status line when it is written (so a watch is in
// the log while it streams); Unwrap lets http.ResponseController flush the
// real writer for streamed answers.
type statusWriter struct {
	http.ResponseWriter
	onStatus func(int)
}

func (s *statusWriter) WriteHeader(code int) {
	if code >= 200 {
		s.onStatus(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.onStatus(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// wrap is the outermost handler: control API, fault injection, request log.
func (c *control) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, controlPrefix) {
			c.serveControl(w, r)
			return
		}
		start := time.Now()
		user := c.ids.presumedUser(r)
		e := logEntry{
			Time: start.UTC().Format(time.RFC3339Nano), Method: r.Method, Path: r.URL.Path,
			Query: r.URL.RawQuery, UserAgent: r.UserAgent(), ContentType: r.Header.Get("Content-Type"),
			Accept: r.Header.Get("Accept"),
		}
		var once sync.Once
		commit := func(code int) {
			once.Do(func() {
				e.Status = code
				// the user as the apiserver authenticated it: none when it
				// refused the credential, or when a fault answered first
				if code != http.StatusUnauthorized && (e.Fault == "" || e.Fault == "delay") {
					e.User = user
				}
				e.DurationMs = float64(time.Since(start).Microseconds()) / 1000
				c.record(e)
			})
		}
		ww := &statusWriter{ResponseWriter: w, onStatus: commit}
		defer func() {
			if p := recover(); p != nil {
				commit(0) // dropped: no status was sent
				panic(p)
			}
			commit(http.StatusOK)
		}()
		if f := c.take(r, user); f != nil {
			e.Fault = f.Type
			if injected(ww, r, f) {
				return
			}
		}
		h.ServeHTTP(ww, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(v)
}

var faultTypes = regexp.MustCompile(`^(delay|drop|[45][0-9][0-9])$`)

func (c *control) addFault(r *http.Request) (*fault, error) {
	f := &fault{}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("fault: %v", err)
	}
	if !faultTypes.MatchString(f.Type) {
		return nil, fmt.Errorf("fault: type %q: want 500, 429, 409, 401 (any 4xx/5xx code), delay or drop", f.Type)
	}
	if f.Type == "delay" && f.DelayMs <= 0 {
		return nil, fmt.Errorf("fault: delay needs delay_ms > 0")
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Count < 0 || f.RetryAfterS < 0 {
		return nil, fmt.Errorf("fault: count and retry_after_s must not be negative")
	}
	if f.PathRegex != "" {
		re, err := regexp.Compile(f.PathRegex)
		if err != nil {
			return nil, fmt.Errorf("fault: path_regex: %v", err)
		}
		f.re = re
	}
	f.Hits = 0
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	f.ID = c.nextID
	c.faults = append(c.faults, f)
	return f, nil
}

func (c *control) serveControl(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+c.adminToken {
		writeStatus(w, 401, "Unauthorized", "the control API needs the admin token", 0)
		return
	}
	what := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, controlPrefix), "/")
	switch what + " " + r.Method {
	case "faults GET":
		c.mu.Lock()
		out := append([]*fault{}, c.faults...)
		c.mu.Unlock()
		writeJSON(w, 200, map[string]interface{}{"faults": out})
	case "faults POST":
		f, err := c.addFault(r)
		if err != nil {
			writeStatus(w, 400, "BadRequest", err.Error(), 0)
			return
		}
		writeJSON(w, 201, f)
	case "faults DELETE":
		c.mu.Lock()
		c.faults = nil
		c.mu.Unlock()
		writeJSON(w, 200, map[string]interface{}{"faults": []int{}})
	case "requests GET":
		since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
		c.mu.Lock()
		out := []logEntry{}
		for _, e := range c.log {
			if e.Seq > since {
				out = append(out, e)
			}
		}
		last := c.seq
		c.mu.Unlock()
		writeJSON(w, 200, map[string]interface{}{"last_seq": last, "requests": out})
	case "requests DELETE":
		c.mu.Lock()
		c.log = nil
		last := c.seq
		c.mu.Unlock()
		writeJSON(w, 200, map[string]interface{}{"last_seq": last, "requests": []int{}})
	default:
		writeStatus(w, 404, "NotFound", "control API: GET|POST|DELETE /np-test/faults, GET|DELETE /np-test/requests "+
			"(tokens are real: TokenRequest to issue, delete the bound object to revoke)", 0)
	}
}
