// How a token's bytes are shown to a person (`gpt sample --show_tokens`, gpt serve's token lists): valid
// UTF-8 characters as themselves, newline and tab as \n and \t, and every other byte (control
// characters, a piece of a multi-byte character, invalid UTF-8) as \xNN, so no token prints as nothing
// or garbles the terminal.
#pragma once

#include <string>
#include <string_view>

namespace gpt {

// `quote`: also escape ' and \ (for a display inside single quotes).
std::string printable_token(std::string_view bytes, bool quote = false);

}  // namespace gpt
