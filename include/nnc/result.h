// nnc's public API: errors as values. A Result<T> holds a T or an Error; no call of the API
// throws, except Result::value() on an error (std::bad_variant_access), a misuse.
#pragma once

#include "nnc/diagnostic.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nnc {

enum class ErrorCode {
  InvalidArgument, ///< a wrong name, shape, buffer size or option
  Compile,         ///< the model file has errors (Error::diagnostics says which)
  Io,              ///< a file could not be read or written, or is corrupt
  State,           ///< a call out of order, such as running before the weights are given
  Unsupported,     ///< this CPU lacks the ISA asked for
  OutOfMemory,
  Internal, ///< a bug in nnc
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message; ///< one line
  std::vector<Diagnostic> diagnostics;
};

template <class T> class [[nodiscard]] Result {
public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(state_); }

private:
  std::variant<T, Error> state_;
};

/// The result of a call that returns nothing.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

} // namespace nnc
