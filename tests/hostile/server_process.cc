#include "tests/hostile/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace mlprod::hostile {
namespace {

namespace fs = std::filesystem;

constexpr auto kStartBudget = std::chrono::seconds(30);

// Reads one line from `fd` within `budget`; false at EOF or on timeout.
bool ReadLine(int fd, std::chrono::milliseconds budget, std::string* line) {
  const auto end = std::chrono::steady_clock::now() + budget;
  line->clear();
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

long StatusFieldKib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

std::string DescribeWaitStatus(int status) {
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary,
                                                    const std::vector<std::string>& flags,
                                                    std::string* error) {
  char pattern[] = "/tmp/mlprod-hostile-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    *error = std::string("mkdtemp: ") + strerror(errno);
    return nullptr;
  }
  std::unique_ptr<ServerProcess> server(new ServerProcess(binary, flags, pattern));
  if (!server->Launch(error)) return nullptr;
  return server;
}

ServerProcess::ServerProcess(std::string binary, std::vector<std::string> flags,
                             std::string data_dir)
    : binary_(std::move(binary)), flags_(std::move(flags)), data_dir_(std::move(data_dir)) {}

ServerProcess::~ServerProcess() {
  Stop();
  std::error_code ignored;
  fs::remove_all(data_dir_, ignored);
}

bool ServerProcess::Launch(std::string* error) {
  std::vector<std::string> args = {binary_, "--listen", "127.0.0.1:0", "--data-dir",
                                   data_dir_ + "/data"};
  args.insert(args.end(), flags_.begin(), flags_.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  // posix_spawn rather than fork: this process runs gRPC threads, and a forked copy of them
  // must not run anything before exec.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  const std::string log = data_dir_ + "/server.log";
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int spawned = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    *error = "cannot start " + binary_ + ": " + strerror(spawned);
    return false;
  }
  ended_ = false;
  how_ended_.clear();

  std::string line;
  const bool got = ReadLine(out[0], kStartBudget, &line);
  // The read end stays open until Stop, so that a late write to stdout never meets SIGPIPE.
  const std::string marker = "listening on ";
  const size_t at = line.find(marker);
  const size_t colon = line.rfind(':');
  if (!got || at == std::string::npos || colon == std::string::npos) {
    close(out[0]);
    std::string how;
    Alive(&how);
    *error = "mlprod-server did not report its port (" + (how.empty() ? "still running" : how) +
             "); its log ends:\n" + LogTail(2000);
    Stop();
    return false;
  }
  port_ = std::atoi(line.c_str() + colon + 1);
  stdout_fd_ = out[0];
  return true;
}

bool ServerProcess::Restart(std::string* error) {
  Stop();
  return Launch(error);
}

void ServerProcess::Kill() {
  if (pid_ <= 0 || !Alive()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  ended_ = true;
  how_ended_ = "killed by the test";
}

void ServerProcess::Stop() {
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
  if (pid_ <= 0 || !Alive()) return;
  kill(pid_, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Alive() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
}

bool ServerProcess::Alive(std::string* how) {
  if (!ended_) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      ended_ = true;
      how_ended_ = DescribeWaitStatus(status);
    } else if (r < 0) {
      ended_ = true;
      how_ended_ = std::string("waitpid: ") + strerror(errno);
    }
  }
  if (how != nullptr) *how = how_ended_;
  return !ended_;
}

long ServerProcess::RssKib() const { return StatusFieldKib(pid_, "VmRSS"); }
long ServerProcess::PeakRssKib() const { return StatusFieldKib(pid_, "VmHWM"); }

std::string ServerProcess::LogTail(size_t bytes) const {
  std::ifstream in(data_dir_ + "/server.log", std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace mlprod::hostile
