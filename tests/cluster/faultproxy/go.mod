module nodeprint.test/faultproxy

go 1.26
