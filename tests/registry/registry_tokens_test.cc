// Tokens in the registry: hashes only, names never reused, revoked rows kept for good.
#include <gtest/gtest.h>

#include <string>

#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

using testing::RegistryTest;

const std::string kHash(64, 'a');

TEST_F(RegistryTest, TokenIsFoundByItsSelectorWithTheHashOfItsSecret) {
  ASSERT_TRUE(registry_->CreateToken("ci", "editor", "00ff", kHash, "root").ok());
  auto found = registry_->FindValidToken("00ff");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->token.name, "ci");
  EXPECT_EQ((*found)->token.role, "editor");
  EXPECT_EQ((*found)->token.created_by, "root");
  EXPECT_EQ((*found)->secret_sha256, kHash);
  EXPECT_FALSE(registry_->FindValidToken("00fe")->has_value());
  EXPECT_EQ(*registry_->CountTokens(), 1);
}

TEST_F(RegistryTest, RevokedTokenIsNotValidButKeepsItsNameAndCount) {
  ASSERT_TRUE(registry_->CreateToken("ci", "admin", "01", kHash, "root").ok());
  auto revoked = registry_->RevokeToken("ci", "alice");
  ASSERT_TRUE(revoked.ok());
  EXPECT_NE(revoked->revoked_at_ms, 0);
  EXPECT_EQ(revoked->revoked_by, "alice");
  EXPECT_FALSE(registry_->FindValidToken("01")->has_value());
  EXPECT_EQ(registry_->RevokeToken("ci", "alice").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CreateToken("ci", "viewer", "02", kHash, "root").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(*registry_->CountTokens(), 1);  // auth, once on, stays on
  Reopen();
  auto list = registry_->ListTokens();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_NE((*list)[0].revoked_at_ms, 0);
}

TEST_F(RegistryTest, TokenInputsAreChecked) {
  EXPECT_EQ(registry_->CreateToken("../x", "admin", "01", kHash, "r").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->CreateToken("x", "root", "01", kHash, "r").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->CreateToken("x", "admin", "01", "secret", "r").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->RevokeToken("nobody", "r").status().code(), StatusCode::kNotFound);
  // A selector drawn twice is a lost race the caller retries.
  ASSERT_TRUE(registry_->CreateToken("a", "admin", "01", kHash, "r").ok());
  EXPECT_EQ(registry_->CreateToken("b", "admin", "01", kHash, "r").status().code(),
            StatusCode::kAborted);
}

}  // namespace
}  // namespace mlprod::registry
