// ServerProcess: the real `mlprod-server` binary as a child process, listening on 127.0.0.1:0 with
// a temporary data dir, so that hostile tests hit the binary users run (its flags, its limits,
// its stack sizes) and can read its memory from /proc/PID/status. The child's stderr goes to a
// file in the data dir, shown when it dies.
//
// Thread-compatible: one test thread starts, restarts, stops it and asks Alive() (which reaps
// the child); the RSS readers only read /proc and may be called from any thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace mlprod::hostile {

class ServerProcess {
 public:
  // Starts `binary` with `flags` (besides --listen and --data-dir, which it chooses) and waits
  // for its "listening on HOST:PORT" line. Returns nullptr and sets *error when the binary does
  // not start or exits first.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary,
                                              const std::vector<std::string>& flags,
                                              std::string* error);
  // SIGTERM (SIGKILL after 10 s), then removes the data dir.
  ~ServerProcess();

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the binary again on the same data dir (after it died); the port changes.
  bool Restart(std::string* error);

  // SIGKILL, for a server stuck in a call: SIGTERM would wait for that call to finish.
  void Kill();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }

  // Whether the process still runs. Once it has ended, *how says how ("killed by signal 11
  // (Segmentation fault)", "exited with 1"); later calls keep answering false with the same.
  bool Alive(std::string* how = nullptr);

  // Resident memory now (VmRSS) and its peak since start (VmHWM), in KiB; -1 when unreadable.
  long RssKib() const;
  long PeakRssKib() const;

  // The last `bytes` of the server's stderr (its log), for a failure message.
  std::string LogTail(size_t bytes) const;

 private:
  ServerProcess(std::string binary, std::vector<std::string> flags, std::string data_dir);
  bool Launch(std::string* error);
  void Stop();

  const std::string binary_;
  const std::vector<std::string> flags_;
  const std::string data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;  // the read end of the child's stdout, held while it runs
  bool ended_ = false;
  std::string how_ended_;
};

}  // namespace mlprod::hostile
