// carehub-hl7v2-deadletters: lists, shows and re-submits the messages the HL7 v2 adapter
// rejected (kept in <data_dir>/hl7v2/dead-letters).
//
//   carehub-hl7v2-deadletters --data_dir=./var/carehub list
//   carehub-hl7v2-deadletters --data_dir=./var/carehub show <id>
//   carehub-hl7v2-deadletters --data_dir=./var/carehub --mllp_address=127.0.0.1:2575 resubmit <id>...
//   carehub-hl7v2-deadletters --data_dir=./var/carehub resubmit --all
//
// `show` prints the message itself, which holds personal data: it is an operator's tool, and
// its output goes to the terminal, never to a log. `resubmit` sends each message to the running
// adapter over MLLP, as the EHR would; a letter that gets AA moves to resubmitted/, one that is
// rejected again stays (and the adapter keeps the new rejection as a new letter).
// Exit code 0 if every command succeeded, 1 otherwise.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "carehub/base/clock.h"
#include "carehub/hl7v2/dead_letter_store.h"
#include "carehub/hl7v2/message.h"
#include "carehub/hl7v2/mllp_client.h"

ABSL_FLAG(std::string, data_dir, "./var/carehub", "The hub's data directory.");
ABSL_FLAG(std::string, mllp_address, "127.0.0.1:2575", "The adapter to re-submit to.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "How long to wait for each ACK.");

namespace carehub::hl7v2 {
namespace {

int List(DeadLetterStore& store) {
  absl::StatusOr<std::vector<DeadLetter>> letters = store.List();
  if (!letters.ok()) {
    std::cerr << letters.status() << "\n";
    return 1;
  }
  for (const DeadLetter& l : *letters) {
    std::cout << l.id << "\t" << absl::FormatTime(absl::RFC3339_sec, l.received_at,
                                                    absl::UTCTimeZone())
              << "\t" << l.ack_code << "\t" << l.source_system << "\t" << l.message_type << "\t"
              << l.control_id << "\t" << l.reason << "\n";
  }
  return 0;
}

int Show(DeadLetterStore& store, const std::string& id) {
  absl::StatusOr<DeadLetter> l = store.Get(id);
  if (!l.ok()) {
    std::cerr << l.status() << "\n";
    return 1;
  }
  std::cout << "id: " << l->id << "\nreceived_at: "
            << absl::FormatTime(absl::RFC3339_full, l->received_at, absl::UTCTimeZone())
            << "\nack: " << l->ack_code << " " << l->error_code << "\nreason: " << l->reason
            << "\ncontrol_id: " << l->control_id << "\nsource_system: " << l->source_system
            << "\nmessage_type: " << l->message_type << "\npeer: " << l->peer
            << "\nsize: " << l->size << (l->truncated ? " (truncated: only the start is kept)" : "")
            << "\n\n"
            << absl::StrReplaceAll(l->message, {{"\r\n", "\n"}, {"\r", "\n"}}) << "\n";
  return 0;
}

int Resubmit(DeadLetterStore& store, const std::string& id) {
  absl::StatusOr<DeadLetter> l = store.Get(id);
  if (!l.ok()) {
    std::cerr << id << ": " << l.status() << "\n";
    return 1;
  }
  if (l->truncated) {
    std::cerr << id << ": only the start of this oversized message was kept; not re-submitted\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<MllpClient>> client =
      MllpClient::Connect(absl::GetFlag(FLAGS_mllp_address));
  absl::StatusOr<std::string> ack =
      client.ok() ? (*client)->Send(l->message, absl::GetFlag(FLAGS_timeout)) : client.status();
  if (!ack.ok()) {
    std::cerr << id << ": " << ack.status() << "\n";
    return 1;
  }
  absl::StatusOr<Hl7Message> parsed = Hl7Message::Parse(*ack);
  const std::string code = parsed.ok() ? parsed->Get("MSA", 1) : "";
  const std::string reason = parsed.ok() ? parsed->Get("ERR", 8) : "";
  std::cout << id << "\t" << (code.empty() ? "?" : code) << "\t" << reason << "\n";
  if (code != "AA") return 1;
  if (absl::Status s = store.MarkResubmitted(id, code); !s.ok()) {
    std::cerr << id << ": " << s << "\n";
    return 1;
  }
  return 0;
}

int Main(const std::vector<char*>& args) {
  if (args.size() < 2) {
    std::cerr << "usage: carehub-hl7v2-deadletters [flags] list | show <id> | resubmit <id>...|--all\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<DeadLetterStore>> store = DeadLetterStore::Open(
      absl::StrCat(absl::GetFlag(FLAGS_data_dir), "/hl7v2/dead-letters"), Clock::Real());
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  const std::string command = args[1];
  if (command == "list" && args.size() == 2) return List(**store);
  if (command == "show" && args.size() == 3) return Show(**store, args[2]);
  if (command == "resubmit" && args.size() >= 3) {
    std::vector<std::string> ids;
    if (std::string(args[2]) == "--all") {
      absl::StatusOr<std::vector<DeadLetter>> all = (*store)->List();
      if (!all.ok()) {
        std::cerr << all.status() << "\n";
        return 1;
      }
      for (const DeadLetter& l : *all) ids.push_back(l.id);
    } else {
      ids.assign(args.begin() + 2, args.end());
    }
    int rc = 0;
    for (const std::string& id : ids) rc |= Resubmit(**store, id);
    return rc;
  }
  std::cerr << "unknown command; see --help\n";
  return 2;
}

}  // namespace
}  // namespace carehub::hl7v2

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Lists, shows and re-submits rejected HL7 v2 messages: list | show <id> | "
      "resubmit <id>... | resubmit --all");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  return carehub::hl7v2::Main(args);
}
