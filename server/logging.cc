#include "server/logging.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace mlprod::server {
namespace {

// A JSON string literal of `text` (quotes and escapes included); invalid UTF-8 is replaced.
std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The name of the logger whose messages are already JSON members (LogRpc's), not text.
constexpr std::string_view kRpcLogger = "rpc";

// {"time":"2026-12-07T16:33:57.162Z","level":"info","logger":"mlprod","msg":"..."} per line;
// an RPC event's members follow "msg".
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        msg.time.time_since_epoch()) % 1000;
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    fmt::format_to(std::back_inserter(dest),
                   "{{\"time\":\"{:%Y-%m-%dT%H:%M:%S}.{:03d}Z\",\"level\":\"{}\",\"logger\":{},",
                   fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)),
                   static_cast<int>(ms.count()),
                   spdlog::level::to_string_view(msg.level), JsonString(logger));
    if (logger == kRpcLogger) {
      dest.append(payload.data(), payload.data() + payload.size());
    } else {
      const std::string text = "\"msg\":" + JsonString(payload);
      dest.append(text.data(), text.data() + text.size());
    }
    dest.push_back('}');
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

// stderr through stdio's buffer: a line per RPC must not cost a write(2) per call. The buffer is
// flushed every second and at once for a warning or worse (ConfigureLogging), so a crash loses
// at most a second of info lines.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

// Set once by ConfigureLogging, before any thread logs.
LogFormat g_format = LogFormat::kText;
std::shared_ptr<spdlog::logger> g_rpc;

}  // namespace

void ConfigureLogging(LogFormat format) {
  g_format = format;
  static char buffer[64 << 10];
  std::setvbuf(stderr, buffer, _IOFBF, sizeof buffer);
  auto sink = std::make_shared<BufferedStderrSink>();
  if (format == LogFormat::kJson) sink->set_formatter(std::make_unique<JsonLineFormatter>());
  auto main = std::make_shared<spdlog::logger>("mlprod", sink);
  auto rpc = std::make_shared<spdlog::logger>(std::string(kRpcLogger), sink);
  for (const auto& logger : {main, rpc}) logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(main);
  g_rpc = rpc;
  spdlog::flush_every(std::chrono::seconds(1));
}

void FlushLogs() {
  spdlog::default_logger_raw()->flush();
  if (g_rpc) g_rpc->flush();
}

void LogRpc(const RpcEvent& e) {
  const bool fault = e.code == "INTERNAL" || e.code == "DATA_LOSS" || e.code == "UNKNOWN";
  const spdlog::level::level_enum level = fault ? spdlog::level::err : spdlog::level::info;
  spdlog::logger* rpc = g_rpc ? g_rpc.get() : spdlog::default_logger_raw();  // tests: default
  if (!rpc->should_log(level)) return;
  if (g_format == LogFormat::kJson) {
    std::string members = fmt::format(
        "\"msg\":\"rpc\",\"request_id\":{},\"method\":{},\"code\":{},\"actor\":{},\"peer\":{},"
        "\"duration_ms\":{:.3f}",
        JsonString(e.request_id), JsonString(e.method), JsonString(e.code), JsonString(e.actor),
        JsonString(e.peer), e.seconds * 1e3);
    if (!e.error.empty()) members += ",\"error\":" + JsonString(e.error);
    rpc->log(level, "{}", members);
    return;
  }
  // One line per call: the format is compiled, not parsed at run time for each.
  spdlog::memory_buf_t line;
  fmt::format_to(std::back_inserter(line),
                 FMT_COMPILE("{} {} {:.2f} ms actor={} peer={} request_id={}"), e.method, e.code,
                 e.seconds * 1e3, e.actor, e.peer, e.request_id);
  if (!e.error.empty()) fmt::format_to(std::back_inserter(line), FMT_COMPILE(": {}"), e.error);
  rpc->log(level, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace mlprod::server
