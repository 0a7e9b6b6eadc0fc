#include "backends/vici/vici_message.h"

namespace ipsecctl::backends::vici {

namespace {

enum Element : std::uint8_t {
  kSectionStart = 1, kSectionEnd = 2, kKeyValue = 3, kListStart = 4, kListItem = 5,
  kListEnd = 6
};

void put_name(std::vector<std::uint8_t>& out, const std::string& name) {
  if (name.size() > 255) throw ViciError("VICI name too long: " + name.substr(0, 40));
  out.push_back(static_cast<std::uint8_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
}

void put_value(std::vector<std::uint8_t>& out, const std::string& v) {
  if (v.size() > 0xffff) throw ViciError("VICI value too long");
  out.push_back(static_cast<std::uint8_t>(v.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(v.size() & 0xff));
  out.insert(out.end(), v.begin(), v.end());
}

void encode_into(std::vector<std::uint8_t>& out, const ViciSection& s) {
  for (const ViciItem& item : s) {
    switch (item.kind) {
      case ViciItem::Kind::Value:
        out.push_back(kKeyValue);
        put_name(out, item.name);
        put_value(out, item.value);
        break;
      case ViciItem::Kind::List:
        out.push_back(kListStart);
        put_name(out, item.name);
        for (const std::string& v : item.list) {
          out.push_back(kListItem);
          put_value(out, v);
        }
        out.push_back(kListEnd);
        break;
      case ViciItem::Kind::Section:
        out.push_back(kSectionStart);
        put_name(out, item.name);
        encode_into(out, item.section);
        out.push_back(kSectionEnd);
        break;
    }
  }
}

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ == end_; }
  std::uint8_t byte() {
    if (p_ == end_) throw ViciError("truncated VICI message");
    return *p_++;
  }
  std::string bytes(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) throw ViciError("truncated VICI message");
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string name() { return bytes(byte()); }
  std::string value() {
    std::size_t n = static_cast<std::size_t>(byte()) << 8;
    n |= byte();
    return bytes(n);
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace

ViciItem value(std::string name, std::string v) {
  ViciItem i;
  i.kind = ViciItem::Kind::Value;
  i.name = std::move(name);
  i.value = std::move(v);
  return i;
}

ViciItem list(std::string name, std::vector<std::string> items) {
  ViciItem i;
  i.kind = ViciItem::Kind::List;
  i.name = std::move(name);
  i.list = std::move(items);
  return i;
}

ViciItem section(std::string name, ViciSection items) {
  ViciItem i;
  i.kind = ViciItem::Kind::Section;
  i.name = std::move(name);
  i.section = std::move(items);
  return i;
}

const ViciItem* find(const ViciSection& s, const std::string& name) {
  for (const ViciItem& item : s)
    if (item.name == name) return &item;
  return nullptr;
}

std::string value_of(const ViciSection& s, const std::string& name) {
  const ViciItem* item = find(s, name);
  return item != nullptr && item->kind == ViciItem::Kind::Value ? item->value : std::string();
}

std::vector<std::uint8_t> encode(const ViciSection& message) {
  std::vector<std::uint8_t> out;
  encode_into(out, message);
  return out;
}

constexpr std::size_t kMaxSectionDepth = 64;

ViciSection decode(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size);
  std::vector<ViciSection> stack(1);
  std::vector<std::string> names;
  while (!r.done()) {
    switch (r.byte()) {
      case kSectionStart:
        // charon nests a few levels at most; a deeper message is hostile
        // or broken, and everything that walks a section recurses.
        if (stack.size() > kMaxSectionDepth) throw ViciError("VICI sections nested too deeply");
        names.push_back(r.name());
        stack.emplace_back();
        break;
      case kSectionEnd: {
        if (stack.size() < 2) throw ViciError("unbalanced VICI section");
        ViciSection inner = std::move(stack.back());
        stack.pop_back();
        stack.back().push_back(section(std::move(names.back()), std::move(inner)));
        names.pop_back();
        break;
      }
      case kKeyValue: {
        std::string n = r.name();
        stack.back().push_back(value(std::move(n), r.value()));
        break;
      }
      case kListStart: {
        ViciItem l = list(r.name(), {});
        for (;;) {
          std::uint8_t t = r.byte();
          if (t == kListEnd) break;
          if (t != kListItem) throw ViciError("bad element in VICI list");
          l.list.push_back(r.value());
        }
        stack.back().push_back(std::move(l));
        break;
      }
      default:
        throw ViciError("unknown VICI element");
    }
  }
  if (stack.size() != 1) throw ViciError("unterminated VICI section");
  return std::move(stack.front());
}

}  // namespace ipsecctl::backends::vici
