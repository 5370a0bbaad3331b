#include "json/schema_check.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "json/schema_node.hpp"

namespace anipipe::json {
namespace {

/// Calls f on node and the schemas its $ref chain leads to, the referenced ones first (the order
/// SchemaRegistry::validate checks them in); stops at the first f that returns false.
template <class F>
bool each_in_chain(const SchemaNode* node, F&& f) {
  if (!node) return true;
  if (node->ref_target && !each_in_chain(node->ref_target, f)) return false;
  return f(*node);
}

}  // namespace

SchemaCheck::SchemaCheck(const SchemaRegistry& registry, std::string_view topic)
    : registry_(registry), topic_(topic), root_(registry.root(topic)) {
  if (!root_) throw std::invalid_argument("no schema for topic " + std::string(topic));
  streamable_ = root_->streamable;
  frames_.reserve(16);
  reset();
}

void SchemaCheck::reset() {
  frames_.clear();
  pending_ = nullptr;
  pending_key_ = {};
  pending_unknown_ = false;
  root_done_ = false;
  undecided_ = !streamable_;
  error_.reset();
}

std::optional<ValidationError> SchemaCheck::result(std::string_view written) const {
  if (undecided_ || !root_done_ || !frames_.empty()) return registry_.validate(topic_, written);
  return error_;
}

void SchemaCheck::fail(std::string message, bool at_child) {
  std::string path;
  auto token = [&](std::string_view key, std::size_t index, bool by_index) {
    path += '/';
    path += by_index ? std::to_string(index) : escape_pointer_token(key);
  };
  for (const auto& f : frames_)
    if (!f.at_root) token(f.key, f.index, f.by_index);
  if (at_child && !frames_.empty()) {
    const Frame& parent = frames_.back();
    token(pending_key_, parent.count - 1, parent.is_array);
  }
  // As the validator names it: a property the schema does not declare, where none is allowed.
  if (at_child && pending_unknown_ && pending_ && pending_->reject_all) message = "unknown property \"" + std::string(pending_key_) + "\"";
  error_ = ValidationError{std::move(path), std::move(message)};
}

const SchemaNode* SchemaCheck::next_value() {
  if (frames_.empty()) {
    if (root_done_) undecided_ = true;  // a second document: not what this check follows
    root_done_ = true;
    return root_;
  }
  Frame& f = frames_.back();
  if (f.is_array) {
    ++f.count;
    return f.node ? f.node->items : nullptr;
  }
  return pending_;
}

void SchemaCheck::check_scalar(const Scalar& v) {
  if (idle()) return;
  const SchemaNode* node = next_value();
  each_in_chain(node, [&](const SchemaNode& n) {
    if (auto msg = n.scalar_error(v)) {
      fail(std::move(*msg), true);
      return false;
    }
    return true;
  });
}

void SchemaCheck::string(std::string_view s) {
  Scalar v;
  v.type = kString;
  v.string = s;
  check_scalar(v);
}

void SchemaCheck::number(double d, bool integer) {
  Scalar v;
  v.type = kNumber;
  v.number = d;
  v.integral = std::isfinite(d) && std::floor(d) == d;
  // As the Writer writes it: an integral double below 1e15 has no fraction or exponent.
  v.integer_text = integer || (v.integral && std::fabs(d) < 1e15);
  check_scalar(v);
}

void SchemaCheck::boolean(bool b) {
  Scalar v;
  v.type = kBoolean;
  v.boolean = b;
  check_scalar(v);
}

void SchemaCheck::null() { check_scalar(Scalar{}); }

void SchemaCheck::begin_container(bool is_array) {
  if (idle()) return;
  Frame frame;
  frame.is_array = is_array;
  if (frames_.empty()) {
    frame.at_root = true;
  } else if (frames_.back().is_array) {
    frame.by_index = true;
    frame.index = frames_.back().count;  // next_value() counts it below
  } else {
    frame.key = pending_key_;
  }
  const SchemaNode* node = next_value();
  each_in_chain(node, [&](const SchemaNode& n) {
    std::optional<std::string> msg;
    if (n.reject_all) msg = "no value is allowed here";
    else msg = n.type_error(is_array ? kArray : kObject, false, false);
    if (msg) {
      fail(std::move(*msg), true);
      return false;
    }
    // An enum or const of a container compares whole documents: left to the full validation.
    if (n.enum_values || n.const_value) undecided_ = true;
    if (n.constrains_members()) frame.node = &n;  // at most one in the chain (streamable)
    return true;
  });
  if (idle()) return;
  frames_.push_back(frame);
  pending_ = nullptr;
  pending_unknown_ = false;
}

void SchemaCheck::key(std::string_view k) {
  if (idle()) return;
  Frame& f = frames_.back();
  pending_key_ = k;
  pending_unknown_ = false;
  pending_ = nullptr;
  if (!f.node) return;
  const auto& props = f.node->properties;
  // Writers emit the properties in the schema's order, mostly: look where the last one was first.
  const std::size_t n = props.size();
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t i = (f.next + step) % n;
    if (props[i].first == k) {
      pending_ = props[i].second;
      if (i < 64) f.seen |= std::uint64_t{1} << i;
      f.next = i + 1;
      return;
    }
  }
  pending_ = f.node->additional;
  pending_unknown_ = true;
}

void SchemaCheck::end() {
  if (idle()) return;
  const Frame& f = frames_.back();
  if (f.node && !f.is_array && (f.seen & f.node->required_bits) != f.node->required_bits) {
    for (const auto& name : f.node->required) {
      std::size_t i = 0;
      while (i < f.node->properties.size() && f.node->properties[i].first != name) ++i;
      if (i < 64 && !(f.seen & (std::uint64_t{1} << i))) return fail("missing required property \"" + name + "\"", false);
    }
  }
  if (f.node && f.is_array) {
    if (f.node->min_items && f.count < *f.node->min_items)
      return fail("fewer than " + std::to_string(*f.node->min_items) + " items", false);
    if (f.node->max_items && f.count > *f.node->max_items) return fail("more than " + std::to_string(*f.node->max_items) + " items", false);
  }
  frames_.pop_back();
  pending_ = nullptr;
  pending_unknown_ = false;
}

}  // namespace anipipe::json
