// The server's log (SPEC §9): spdlog on stderr, one line per event, as text for a terminal or,
// with --log-format json, one JSON object a line ({"time", "level", "logger", "msg", ...}) for a
// log shipper. Every finished RPC is one event with its request id, method, code, actor, peer
// and duration.
#pragma once

#include <string_view>

namespace mlprod::server {

enum class LogFormat { kText, kJson };

// Makes the default logger write `format` to stderr, buffered: flushed every second, at once
// for a warning or worse, and by FlushLogs. Call once, before threads start.
void ConfigureLogging(LogFormat format);

// Writes out what the buffer holds (at a clean stop).
void FlushLogs();

// One finished RPC. `error` is the status message of a call that failed, else empty.
struct RpcEvent {
  std::string_view request_id;
  std::string_view method;  // "/mlprod.v1.ModelRegistry/Promote"
  std::string_view code;    // "OK", "NOT_FOUND", ...
  std::string_view actor;   // the caller the gate admitted; "-" for a refused call
  std::string_view peer;    // "ipv4:127.0.0.1:40312"
  double seconds = 0;
  std::string_view error;
};

// Logs `event` on the default logger: at error level for the codes that mean a server fault
// (INTERNAL, DATA_LOSS, UNKNOWN), at info level otherwise.
void LogRpc(const RpcEvent& event);

}  // namespace mlprod::server
