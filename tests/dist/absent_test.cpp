// SPDX-License-Identifier: Apache-2.0
// A build without data parallelism (CPSD_DATA_PARALLEL off) refuses a job of several
// processes when it starts, saying why.
#include <gtest/gtest.h>

#include "cpsd/core/distributed.h"
#include "cpsd/sdk/error.h"

TEST(DataParallelAbsent, AJobOfSeveralProcessesIsRefusedSayingWhy) {
  cpsd::DistEnv env;
  env.world_size = 2;
  env.source = "RANK/WORLD_SIZE";
  try {
    cpsd::Distributed::connect(env, std::chrono::seconds(1));
    FAIL() << "connect() returned in a build without data parallelism";
  } catch (const cpsd::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("job of 2 processes"), std::string::npos) << what;
    EXPECT_NE(what.find("built without"), std::string::npos) << what;
  }
}
