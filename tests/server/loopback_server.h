// The base of the in-process server tests: a fresh temporary folder per test, removed with all
// it holds afterwards, and the real server on a free loopback port over `data_dir()`.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "client/mlprod_client.h"
#include "server/mlprod_server.h"

namespace mlprod::testing {

class LoopbackServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mlprod-server-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string data_dir() const { return dir_ + "/data"; }

  // Starts the server, or starts it again after a stop, on 127.0.0.1:0 over data_dir(), with
  // `options`' other fields.
  void StartServer(server::ServerOptions options = {}) {
    server_.reset();
    options.listen = "127.0.0.1:0";
    options.data_dir = data_dir();
    auto server = server::MlprodServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // A client of the server, with `options`' other fields (actor, token, deadline).
  std::unique_ptr<client::MlprodClient> NewClient(client::ClientOptions options = {}) const {
    options.server = target();
    std::string error;
    auto client = client::MlprodClient::Create(options, &error);
    EXPECT_NE(client, nullptr) << error;
    return client;
  }

  std::string dir_;  // the test's folder; the server's data is in data_dir()
  std::unique_ptr<server::MlprodServer> server_;
};

}  // namespace mlprod::testing
