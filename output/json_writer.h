// A small streaming JSON writer: objects, arrays, strings (escaped as RFC
// 8259 requires, bytes above 127 kept as they are or as \u00XX when they do
// not form UTF-8), integers and booleans. Output for machines (-j): every
// value has a stable key, no floating point, one document per call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipsecctl::output {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }
  JsonWriter& boolean(bool b);
  JsonWriter& null();

  // key(name).value(v) in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separator();
  std::string out_;
  // Per open container: has it an element yet? Plus whether a key was
  // just written (then no comma before the value).
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// The text as a JSON string literal, quotes included.
std::string json_string(std::string_view text);

}  // namespace ipsecctl::output
