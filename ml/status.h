// Status and Result<T>: how every mlprod module reports success or failure at its borders.
//
// The codes are numbered as gRPC's so the server maps a Status to a grpc::Status by value; the
// meanings follow SPEC §7 and STYLE.md: INVALID_ARGUMENT bad input, NOT_FOUND an unknown name,
// ALREADY_EXISTS a duplicate, FAILED_PRECONDITION a state or gate refuses, ABORTED a lost race,
// RESOURCE_EXHAUSTED a limit, INTERNAL/DATA_LOSS storage faults. No exceptions cross a module
// border: code that calls a throwing library catches at the lowest layer and returns a Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mlprod {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT" etc., as gRPC spells the code.
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: dataset 'x' has no version 3"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status saying why there is none. Constructing from an OK Status is a bug.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mlprod

#define MLPROD_CONCAT_INNER_(a, b) a##b
#define MLPROD_CONCAT_(a, b) MLPROD_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define MLPROD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::mlprod::Status mlprod_status_ = (expr);        \
    if (!mlprod_status_.ok()) return mlprod_status_; \
  } while (0)

// `MLPROD_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its Status.
#define MLPROD_ASSIGN_OR_RETURN(lhs, expr) \
  MLPROD_ASSIGN_OR_RETURN_IMPL_(MLPROD_CONCAT_(mlprod_result_, __LINE__), lhs, expr)
#define MLPROD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
