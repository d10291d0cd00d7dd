//===- CommunicatorNoMpiTest.cpp - a dlc built without MPI under mpirun ----===//
//
// runtime/Communicator.cpp compiled without DLC_HAVE_MPI, as a build without
// Open MPI's headers compiles it: started as one of several processes, it
// says that it was built without MPI; alone, it runs as always.
//
//===----------------------------------------------------------------------===//

#include "runtime/Communicator.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace dlc::runtime;

TEST(CommunicatorNoMpiTest, SaysSoUnderMpirun) {
  ::unsetenv("PMI_SIZE");
  ::unsetenv("PMIX_SIZE");
  ::setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  auto world = worldCommunicator();
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().message(),
            "started by mpirun as one of 2 processes, but this dlc was built "
            "without MPI (configure it with Open MPI's headers installed: "
            "apt-get install libopenmpi-dev); run it without mpirun to train in "
            "one process");

  ::setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
  auto alone = worldCommunicator();
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ((*alone)->name(), "local");
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
}
