// Test helper: this process's resident set, for tests where memory was the attack.
#pragma once

#include <unistd.h>

#include <fstream>

namespace wasmplug::test {

/// Resident set size in KiB (from /proc/self/statm).
inline long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace wasmplug::test
