// InternalError: a bug in nnc itself, as opposed to an error in the user's model.
#pragma once

#include <stdexcept>
#include <string>

namespace nnc {

/// Thrown when the compiler breaks one of its own invariants (a verifier failure, an op table
/// out of order). User errors never throw: they are reported as Diagnostics.
class InternalError : public std::logic_error {
public:
  explicit InternalError(const std::string& what) : std::logic_error(what) {}
};

} // namespace nnc
