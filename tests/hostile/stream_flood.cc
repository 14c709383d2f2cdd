#include "tests/hostile/stream_flood.h"

#include "tests/hostile/flood_watch.h"

namespace mlprod::hostile {

struct StreamFlood::Call {
  grpc::ClientContext context;
  v1::DatasetVersion reply;
  v1::UploadDatasetRequest header;
  std::unique_ptr<grpc::ClientAsyncWriter<v1::UploadDatasetRequest>> writer;
  grpc::Status status;
  enum class State { kWaiting, kHeld, kEnded } state = State::kWaiting;
  Tag start{this, Op::kStart}, write{this, Op::kWrite}, finish{this, Op::kFinish};
};

StreamFlood::StreamFlood() : drainer_([this] { Drain(); }) {}

StreamFlood::~StreamFlood() {
  CancelAll();
  cq_.Shutdown();
  drainer_.join();
}

void StreamFlood::Open(const std::string& address, int streams) {
  std::lock_guard<std::mutex> lock(mu_);
  auto channel = NewConnection(address, "flood-" + std::to_string(channels_.size()));
  channels_.push_back(channel);
  v1::DatasetService::Stub stub(channel);
  for (int i = 0; i < streams; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    call->header.mutable_header()->set_name("flood" + std::to_string(calls_.size()));
    call->writer = stub.PrepareAsyncUploadDataset(&call->context, &call->reply, &cq_);
    call->writer->StartCall(&call->start);
    calls_.push_back(std::move(call));
  }
}

void StreamFlood::Drain() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) OnEvent(static_cast<Tag*>(tag), ok);
}

void StreamFlood::OnEvent(Tag* tag, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  ++changes_;
  Call* call = tag->call;
  switch (tag->op) {
    case Op::kStart:
      if (ok) {
        call->writer->Write(call->header, &call->write);
      } else {
        call->writer->Finish(&call->status, &call->finish);
      }
      return;
    case Op::kWrite:
      // Held or not, Finish is what learns how the call ends; the server answers it only when
      // it gives up on the call or the client cancels.
      if (ok) call->state = Call::State::kHeld;
      call->writer->Finish(&call->status, &call->finish);
      return;
    case Op::kFinish:
      call->state = Call::State::kEnded;
      ++ended_;
      return;
  }
}

StreamFlood::Tally StreamFlood::Count() {
  std::lock_guard<std::mutex> lock(mu_);
  Tally tally;
  for (const auto& call : calls_) {
    switch (call->state) {
      case Call::State::kWaiting:
        ++tally.waiting;
        break;
      case Call::State::kHeld:
        ++tally.held;
        break;
      case Call::State::kEnded:
        ++tally.ended[call->status.error_code()];
        break;
    }
  }
  return tally;
}

void StreamFlood::WaitSettled(std::chrono::milliseconds quiet, std::chrono::milliseconds budget) {
  const auto end = std::chrono::steady_clock::now() + budget;
  int last = -1;
  auto last_change = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    int changes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      changes = changes_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (changes != last) {
      last = changes;
      last_change = now;
    } else if (now - last_change >= quiet) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void StreamFlood::CancelAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& call : calls_) {
      if (call->state != Call::State::kEnded) call->context.TryCancel();
    }
  }
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ended_ == static_cast<int>(calls_.size())) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace mlprod::hostile
