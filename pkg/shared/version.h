#pragma once
#define NODEPRINT_VERSION "0.1.0"
