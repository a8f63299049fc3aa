// SPDX-License-Identifier: Apache-2.0
// A small parser and validator of the Prometheus text format (0.0.4) for tests: parse the
// rendered page instead of comparing text (series order inside a family is not part of the
// contract). Header-only so other suites can include it too.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mfa::testing {

using LabelSet = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // as printed, e.g. foo_bucket
  LabelSet labels;
  double value = 0;
};

struct ParsedFamily {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<ParsedFamily> families;  // in page order
  // Format violations: unparsable lines, a sample outside its family, a family split in two,
  // a series printed twice, a histogram without a +Inf bucket equal to _count, ...
  std::vector<std::string> errors;

  const ParsedFamily* Find(std::string_view family) const {
    for (const auto& f : families) {
      if (f.name == family) return &f;
    }
    return nullptr;
  }
  // The value of one series (sample name + exact label set), if printed.
  std::optional<double> Value(std::string_view sample_name, const LabelSet& labels = {}) const {
    for (const auto& f : families) {
      for (const auto& s : f.samples) {
        if (s.name == sample_name && s.labels == labels) return s.value;
      }
    }
    return std::nullopt;
  }
  // Every sample of that name.
  std::vector<Sample> Samples(std::string_view sample_name) const {
    std::vector<Sample> out;
    for (const auto& f : families) {
      for (const auto& s : f.samples) {
        if (s.name == sample_name) out.push_back(s);
      }
    }
    return out;
  }
};

namespace exposition_internal {

inline bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

inline std::optional<double> ParseValue(std::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN" || text == "Nan") return NAN;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

// Parses `name{labels} value [timestamp]`.
inline std::optional<Sample> ParseSample(std::string_view line, std::string* error) {
  Sample sample;
  size_t i = 0;
  while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
  if (i == 0) {
    *error = "bad metric name";
    return std::nullopt;
  }
  sample.name = std::string(line.substr(0, i));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t start = i;
      while (i < line.size() && IsNameChar(line[i], i == start)) ++i;
      std::string label(line.substr(start, i - start));
      if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        *error = "bad label";
        return std::nullopt;
      }
      i += 2;
      std::string value;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          value += line[i] == 'n' ? '\n' : line[i];
        } else {
          value += line[i];
        }
        ++i;
      }
      if (i >= line.size()) {
        *error = "unterminated label value";
        return std::nullopt;
      }
      ++i;  // closing quote
      if (!sample.labels.emplace(label, value).second) {
        *error = "label " + label + " repeated";
        return std::nullopt;
      }
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) {
      *error = "unterminated label set";
      return std::nullopt;
    }
    ++i;  // }
  }
  if (i >= line.size() || line[i] != ' ') {
    *error = "no value";
    return std::nullopt;
  }
  std::string_view rest = line.substr(i + 1);
  size_t space = rest.find(' ');
  auto value = ParseValue(rest.substr(0, space));
  if (!value) {
    *error = "bad value";
    return std::nullopt;
  }
  sample.value = *value;
  return sample;
}

// The family a sample name belongs to, given the family's type.
inline bool BelongsTo(const std::string& sample, const ParsedFamily& family) {
  if (sample == family.name) return family.type != "histogram";
  if (family.type == "histogram" || family.type == "summary") {
    for (std::string_view suffix : {"_bucket", "_count", "_sum"}) {
      if (suffix == "_bucket" && family.type == "summary") continue;
      if (sample == family.name + std::string(suffix)) return true;
    }
  }
  return false;
}

inline std::string Describe(const std::string& name, const LabelSet& labels) {
  std::string out = name + "{";
  for (const auto& [k, v] : labels) out += k + "=\"" + v + "\",";
  return out + "}";
}

inline void CheckHistograms(const ParsedFamily& family, std::vector<std::string>* errors) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative count) in page order
    std::optional<double> count;
    std::optional<double> sum;
  };
  std::map<LabelSet, Series> series;
  for (const auto& s : family.samples) {
    LabelSet labels = s.labels;
    if (s.name == family.name + "_bucket") {
      auto le = labels.find("le");
      if (le == labels.end()) {
        errors->push_back(Describe(s.name, s.labels) + ": bucket without le");
        continue;
      }
      auto bound = ParseValue(le->second);
      labels.erase(le);
      if (!bound) {
        errors->push_back(Describe(s.name, s.labels) + ": bad le");
        continue;
      }
      series[labels].buckets.emplace_back(*bound, s.value);
    } else if (s.name == family.name + "_count") {
      series[labels].count = s.value;
    } else if (s.name == family.name + "_sum") {
      series[labels].sum = s.value;
    }
  }
  for (const auto& [labels, h] : series) {
    const std::string what = Describe(family.name, labels);
    if (!h.count || !h.sum) errors->push_back(what + ": missing _count or _sum");
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      errors->push_back(what + ": no le=\"+Inf\" bucket last");
      continue;
    }
    if (h.count && h.buckets.back().second != *h.count) {
      errors->push_back(what + ": +Inf bucket != _count");
    }
    for (size_t i = 1; i < h.buckets.size(); ++i) {
      if (!(h.buckets[i].first > h.buckets[i - 1].first)) {
        errors->push_back(what + ": le not increasing");
      }
      if (h.buckets[i].second < h.buckets[i - 1].second) {
        errors->push_back(what + ": bucket counts not cumulative");
      }
    }
  }
}

}  // namespace exposition_internal

inline Exposition ParseExposition(std::string_view text) {
  using namespace exposition_internal;
  Exposition out;
  std::set<std::string> seen_families;
  std::set<std::pair<std::string, LabelSet>> seen_series;
  ParsedFamily* current = nullptr;
  std::string pending_help_family;
  std::string pending_help;
  size_t line_number = 0;
  size_t pos = 0;
  if (!text.empty() && text.back() != '\n') out.errors.push_back("page does not end in a newline");
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    const std::string where = "line " + std::to_string(line_number) + ": ";
    if (line.empty()) continue;
    if (line.starts_with("# HELP ")) {
      std::string_view rest = line.substr(7);
      size_t space = rest.find(' ');
      pending_help_family = std::string(rest.substr(0, space));
      pending_help = space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::string_view rest = line.substr(7);
      size_t space = rest.find(' ');
      if (space == std::string_view::npos) {
        out.errors.push_back(where + "TYPE without a type");
        continue;
      }
      std::string name(rest.substr(0, space));
      if (!seen_families.insert(name).second) {
        out.errors.push_back(where + "family " + name + " declared twice (not contiguous)");
      }
      ParsedFamily family;
      family.name = name;
      family.type = std::string(rest.substr(space + 1));
      if (pending_help_family == name) family.help = pending_help;
      pending_help_family.clear();
      out.families.push_back(std::move(family));
      current = &out.families.back();
      continue;
    }
    if (line.starts_with("#")) continue;
    std::string error;
    auto sample = ParseSample(line, &error);
    if (!sample) {
      out.errors.push_back(where + error + ": " + std::string(line));
      continue;
    }
    if (current == nullptr || !BelongsTo(sample->name, *current)) {
      out.errors.push_back(where + "sample " + sample->name + " outside its family");
      ParsedFamily untyped;
      untyped.name = sample->name;
      untyped.type = "untyped";
      out.families.push_back(std::move(untyped));
      current = &out.families.back();
    }
    if (!seen_series.emplace(sample->name, sample->labels).second) {
      out.errors.push_back(where +
                           "series printed twice: " + Describe(sample->name, sample->labels));
    }
    current->samples.push_back(std::move(*sample));
  }
  for (const auto& family : out.families) {
    if (family.type == "histogram") CheckHistograms(family, &out.errors);
  }
  return out;
}

}  // namespace mfa::testing
