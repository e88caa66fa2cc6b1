// carehubd as an operator runs it: a child process on port 0, stopped with signals. Checks what
// every server binary must do (health, reflection, clean stop, durable data); carehubd-specific
// checks are added here as services join the process.
#include <signal.h>

#include <filesystem>

#include "services/eventstore/testing/server_binary_tests.h"

namespace carehub::services::testing {
namespace {

const ServerBinary kCarehubd = {
    .name = "carehubd",
    .path = CAREHUBD_PATH,
    .flags = {"--http_address=127.0.0.1:0", "--municipal_http_address=127.0.0.1:0"}};

INSTANTIATE_TEST_SUITE_P(Carehubd, ServerBinaryTest,
                         ::testing::Values(kCarehubd),
                         [](const auto&) { return "carehubd"; });

// carehubd's own layout: one data directory, the event log under eventstore/.
class CarehubdTest : public ServerBinaryTest {};

TEST_P(CarehubdTest, KeepsTheEventLogUnderEventstoreInTheDataDirectory) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(StopServer(SIGTERM));
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(data_dir()) / "eventstore" / "CURRENT"));
}

INSTANTIATE_TEST_SUITE_P(Carehubd, CarehubdTest,
                         ::testing::Values(kCarehubd),
                         [](const auto&) { return "carehubd"; });

}  // namespace
}  // namespace carehub::services::testing
