// "Did you mean": the closest of a set of words to a misspelled one, by
// edit distance (insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipsecctl {

std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a typo: at
// most 1 edit for words of up to 4 characters, 2 up to 8, 3 beyond.
std::optional<std::string> closest_word(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace ipsecctl
