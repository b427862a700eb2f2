// Checks shared by the pipeline tests (library, component stages).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "wasmplug/pipeline.hpp"

namespace wasmplug::test {

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    out.push_back(line);
  }
  return out;
}

/// in = out + dropped + failed for the run and for every stage, and each
/// stage gets what the one before it passed on.
inline void expect_accounted(const pipeline::PipelineStats& st) {
  EXPECT_EQ(st.records_in, st.out + st.dropped + st.failed);
  for (std::size_t i = 0; i < st.stages.size(); ++i) {
    const pipeline::StageStats& s = st.stages[i];
    EXPECT_EQ(s.in, s.out + s.dropped + s.failed) << "stage " << s.name;
    if (i > 0) {
      EXPECT_EQ(s.in, st.stages[i - 1].out) << "stage " << s.name << " gets what the one before passed on";
    }
  }
}

}  // namespace wasmplug::test
