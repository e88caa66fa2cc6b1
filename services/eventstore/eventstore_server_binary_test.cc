// carehub-eventstore as an operator runs it: a child process on port 0, stopped with signals.
#include "services/eventstore/testing/server_binary_tests.h"

namespace carehub::services::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(CarehubEventstore, ServerBinaryTest,
                         ::testing::Values(ServerBinary{"carehub-eventstore", CAREHUB_EVENTSTORE_PATH}),
                         [](const auto&) { return "carehub_eventstore"; });

}  // namespace
}  // namespace carehub::services::testing
