// SPDX-License-Identifier: Apache-2.0
// docs/grafana/mfa-mock-dashboard.json, checked rather than just shipped: its structure (panel
// ids, grid, variables, data sources), and every panel query run against a real Prometheus that
// scrapes a mock under load, as Grafana would send it. A query that errors, or answers no
// number, fails the test with the panel's title. Needs Debian's `prometheus` (fails without it).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

const char kDashboardPath[] = MFA_MOCK_SOURCE_DIR "/docs/grafana/mfa-mock-dashboard.json";
constexpr int kGridColumns = 24;
// What Grafana puts for $__rate_interval: at least four scrape intervals. With Prometheus's
// default scrape interval (15 s) that is one minute.
constexpr char kRateInterval[] = "1m";

struct Target {
  std::string ref_id;
  std::string expr;
  const rapidjson::Value* datasource = nullptr;
};

struct Panel {
  int64_t id = -1;
  std::string title;
  std::string type;
  int64_t x = -1, y = -1, w = -1, h = -1;
  const rapidjson::Value* datasource = nullptr;
  std::vector<Target> targets;
  std::string Name() const { return "panel " + std::to_string(id) + " \"" + title + "\""; }
};

struct Variable {
  std::string name;
  std::string type;
  std::string query;  // a query variable's query; a datasource variable's plugin type
  bool include_all = false;
  std::string all_value;
  const rapidjson::Value* datasource = nullptr;
};

std::string StringMember(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

int64_t IntMember(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return -1;
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it != v.MemberEnd() ? &it->value : nullptr;
}

// Every panel, including those inside collapsed rows.
void CollectPanels(const rapidjson::Value& list, std::vector<Panel>* out) {
  if (!list.IsArray()) return;
  for (const rapidjson::Value& p : list.GetArray()) {
    Panel panel;
    panel.id = IntMember(p, "id");
    panel.title = StringMember(p, "title");
    panel.type = StringMember(p, "type");
    if (const rapidjson::Value* grid = Member(p, "gridPos")) {
      panel.x = IntMember(*grid, "x");
      panel.y = IntMember(*grid, "y");
      panel.w = IntMember(*grid, "w");
      panel.h = IntMember(*grid, "h");
    }
    panel.datasource = Member(p, "datasource");
    if (const rapidjson::Value* targets = Member(p, "targets"); targets && targets->IsArray()) {
      for (const rapidjson::Value& t : targets->GetArray()) {
        panel.targets.push_back(
            {StringMember(t, "refId"), StringMember(t, "expr"), Member(t, "datasource")});
      }
    }
    out->push_back(std::move(panel));
    if (const rapidjson::Value* nested = Member(p, "panels")) CollectPanels(*nested, out);
  }
}

std::vector<Variable> CollectVariables(const rapidjson::Value& doc) {
  std::vector<Variable> out;
  const rapidjson::Value* templating = Member(doc, "templating");
  const rapidjson::Value* list = templating ? Member(*templating, "list") : nullptr;
  if (list == nullptr || !list->IsArray()) return out;
  for (const rapidjson::Value& v : list->GetArray()) {
    Variable var;
    var.name = StringMember(v, "name");
    var.type = StringMember(v, "type");
    const rapidjson::Value* query = Member(v, "query");
    if (query != nullptr && query->IsString()) {
      var.query = query->GetString();
    } else if (query != nullptr) {
      var.query = StringMember(*query, "query");
    }
    const rapidjson::Value* all = Member(v, "includeAll");
    var.include_all = all != nullptr && all->IsBool() && all->GetBool();
    var.all_value = StringMember(v, "allValue");
    var.datasource = Member(v, "datasource");
    out.push_back(std::move(var));
  }
  return out;
}

// The variables a query names: $name, ${name}, ${name:format} and [[name]].
std::set<std::string> ReferencedVariables(const std::string& text) {
  static const std::regex kRef(R"(\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\])");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef); it != std::sregex_iterator();
       ++it) {
    for (int group = 1; group <= 3; ++group) {
      if ((*it)[group].matched) names.insert((*it)[group].str());
    }
  }
  return names;
}

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool IsBuiltin(const std::string& name) { return name.rfind("__", 0) == 0; }

// Grafana's value for a regex-matched multi-value variable: each value regex-escaped (inside a
// PromQL string, so the backslash is doubled), alternatives in a group.
std::string RegexAlternatives(const std::vector<std::string>& values) {
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += "|";
    for (char c : values[i]) {
      if (std::string_view(R"(\^$*+?.()|{}[])").find(c) != std::string_view::npos) out += "\\\\";
      out += c;
    }
  }
  return out + ")";
}

// `text` with every variable ($name, ${name}, ${name:format}, [[name]]) in `values` replaced, and
// the builtins Grafana fills. Other names stay as they are (the structure test reports them).
std::string Substitute(const std::string& text, const std::map<std::string, std::string>& values) {
  std::map<std::string, std::string> all = values;
  all["__rate_interval"] = kRateInterval;
  all["__interval"] = "15s";
  all["__range"] = "1h";
  static const std::regex kRef(R"(\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\])");
  std::string out;
  size_t copied = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    const std::string name = m[1].matched ? m[1].str() : m[2].matched ? m[2].str() : m[3].str();
    const auto found = all.find(name);
    if (found == all.end()) continue;
    out.append(text, copied, static_cast<size_t>(m.position(0)) - copied);
    out += found->second;
    copied = static_cast<size_t>(m.position(0) + m.length(0));
  }
  return out + text.substr(copied);
}

class GrafanaDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::optional<std::string> text = ReadFile(kDashboardPath);
    ASSERT_TRUE(text) << "cannot read " << kDashboardPath;
    dashboard_ = Json(*text);
    ASSERT_TRUE(dashboard_.valid()) << kDashboardPath << ": " << dashboard_.error();
    CollectPanels(*dashboard_.Find("/panels"), &panels_);
    variables_ = CollectVariables(dashboard_.doc());
    ASSERT_FALSE(panels_.empty());
  }

  const Variable* FindVariable(const std::string& name) const {
    for (const Variable& v : variables_) {
      if (v.name == name) return &v;
    }
    return nullptr;
  }

  Json dashboard_;
  std::vector<Panel> panels_;
  std::vector<Variable> variables_;
};

TEST_F(GrafanaDashboardTest, PanelIdsAreUnique) {
  std::map<int64_t, std::string> seen;
  for (const Panel& p : panels_) {
    EXPECT_GT(p.id, 0) << p.Name() << " has no positive integer id";
    auto [it, inserted] = seen.emplace(p.id, p.title);
    EXPECT_TRUE(inserted) << p.Name() << " reuses the id of \"" << it->second << "\"";
  }
}

TEST_F(GrafanaDashboardTest, PanelsFitTheGridWithoutOverlapping) {
  for (const Panel& p : panels_) {
    EXPECT_TRUE(p.x >= 0 && p.y >= 0 && p.w >= 1 && p.h >= 1)
        << p.Name() << " has no complete gridPos (x, y, w, h)";
    EXPECT_LE(p.x + p.w, kGridColumns) << p.Name() << " extends past column 24";
  }
  for (size_t i = 0; i < panels_.size(); ++i) {
    for (size_t j = i + 1; j < panels_.size(); ++j) {
      const Panel& a = panels_[i];
      const Panel& b = panels_[j];
      const bool apart =
          a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      EXPECT_TRUE(apart) << a.Name() << " and " << b.Name() << " overlap";
    }
  }
}

TEST_F(GrafanaDashboardTest, EveryVariableAQueryNamesIsDefinedBeforeUse) {
  std::set<std::string> defined;
  for (const Variable& v : variables_) {
    // A variable's own query may only use the variables above it (Grafana resolves in order).
    for (const std::string& name : ReferencedVariables(v.query)) {
      EXPECT_TRUE(IsBuiltin(name) || defined.count(name) > 0)
          << "variable $" << v.name << " uses $" << name << ", not defined above it";
    }
    defined.insert(v.name);
  }
  for (const Panel& p : panels_) {
    for (const Target& t : p.targets) {
      for (const std::string& name : ReferencedVariables(t.expr)) {
        EXPECT_TRUE(IsBuiltin(name) || defined.count(name) > 0)
            << p.Name() << " query " << t.ref_id << " uses undefined variable $" << name;
      }
    }
  }
}

TEST_F(GrafanaDashboardTest, EveryQueryUsesTheDataSourceVariable) {
  const Variable* ds = FindVariable("datasource");
  ASSERT_NE(ds, nullptr) << "no `datasource` variable";
  EXPECT_EQ(ds->type, "datasource");
  EXPECT_EQ(ds->query, "prometheus");
  const auto uses_it = [](const rapidjson::Value* ref) {
    return ref != nullptr && StringMember(*ref, "type") == "prometheus" &&
           StringMember(*ref, "uid") == "${datasource}";
  };
  for (const Variable& v : variables_) {
    if (v.type == "query") {
      EXPECT_TRUE(uses_it(v.datasource)) << "variable $" << v.name;
    }
  }
  for (const Panel& p : panels_) {
    if (p.type == "row") {
      EXPECT_TRUE(p.targets.empty()) << p.Name() << " is a row with queries";
      continue;
    }
    EXPECT_FALSE(p.targets.empty()) << p.Name() << " has no query";
    EXPECT_TRUE(uses_it(p.datasource)) << p.Name() << ": datasource is not ${datasource}";
    for (const Target& t : p.targets) {
      EXPECT_FALSE(t.expr.empty()) << p.Name() << " query " << t.ref_id << " has no expr";
      // A target without its own datasource takes the panel's.
      EXPECT_TRUE(t.datasource == nullptr || uses_it(t.datasource))
          << p.Name() << " query " << t.ref_id << ": datasource is not ${datasource}";
    }
  }
}

// Every panel query against a real Prometheus scraping a mock that has seen every kind of
// traffic the dashboard shows.
class GrafanaDashboardQueriesTest : public GrafanaDashboardTest {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- prometheus log (tail) ---\n"
                << prometheus_.LogTail() << "\n--- mfa-mock stderr (tail) ---\n"
                << mock_.process().Stderr(2000) << "\n--- end ---\n";
    }
    prometheus_.Stop();
  }

  // Sends, seeds, verifies (right, wrong, unknown, expired, exhausted), a refused send and a
  // sweep: every counter the panels rate moves. Returns the verify attempts made.
  int Load() {
    int attempts = 0;
    auto verify = [&](const std::string& id, const std::string& code, int status) {
      EXPECT_EQ(mock_.Verify(id, code, "email").status, status) << id;
      ++attempts;
    };
    for (const char* type : {"email", "phone"}) {
      const HttpResponse sent = mock_.Send(type);
      EXPECT_EQ(sent.status, 200) << sent.Describe();
      const std::string id = Json(sent.body).String("/verificationId").value_or("");
      const std::string to =
          type == std::string("email") ? std::string(kDefaultEmail) : std::string(kDefaultPhone);
      EXPECT_EQ(mock_.Verify(id, mock_.LatestCode(to).value_or("?"), type).status, 200);
      ++attempts;
    }
    EXPECT_EQ(mock_.AdminPost("/admin/send", R"({"identifierType":"email","identifier":"a@x.io"})")
                  .status,
              201);
    EXPECT_EQ(
        mock_.AdminPost("/admin/verifications/generate", R"({"count":3,"identifierType":"email"})")
            .status,
        201);
    EXPECT_EQ(
        mock_
            .AdminPost(
                "/admin/verifications",
                R"([{"verificationId":"dashOk","identifierType":"email","code":"111111"},)"
                R"({"verificationId":"dashWrong","identifierType":"email","code":"222222"},)"
                R"({"verificationId":"dashOld","identifierType":"email","code":"333333","ttlSeconds":60},)"
                R"({"verificationId":"dashGone","identifierType":"email","code":"444444","ttlSeconds":60}])")
            .status,
        201);
    verify("dashOk", "111111", 200);
    verify("dashUnknown", "000000", 404);
    for (int i = 0; i <= kDefaultMaxAttempts; ++i) verify("dashWrong", "000000", 400);
    EXPECT_EQ(mock_.AdvanceClock(61).status, 200);
    verify("dashOld", "333333", 400);                // expired
    EXPECT_EQ(mock_.AdvanceClock(600).status, 200);  // past --retention: the sweeper removes them
    // A refused send: one send per window, the second is rate limited.
    EXPECT_EQ(mock_.PatchConfig(R"({"sendRateLimit":{"maxSends":1,"windowSeconds":600}})").status,
              200);
    EXPECT_EQ(mock_.Send("email").status, 200);
    EXPECT_EQ(mock_.Send("email").status, 429);
    return attempts;
  }

  MockServer mock_;
  PrometheusServer prometheus_;
};

TEST_F(GrafanaDashboardQueriesTest, EveryPanelQueryReturnsNumbersFromAScrapedMockUnderLoad) {
  ASSERT_TRUE(mock_.Start({"--sweep-interval", "1"})) << mock_.error();
  const std::string started = prometheus_.Start(mock_.process().admin_port());
  ASSERT_TRUE(started.empty()) << started;
  const uint16_t prom = prometheus_.port();
  // A scrape before the traffic, so rate() sees the counters rise.
  QueryAnswer up = PollPromQuery(prom, R"(up{job="mfa-mock"})", [](double v) { return v == 1; });
  ASSERT_EQ(up.value, 1) << up.raw;

  const int attempts = Load();
  ASSERT_FALSE(HasFailure()) << "the load did not go as planned";
  // Every attempt scraped, and the expired records swept (the sweeper runs every second).
  QueryAnswer scraped = PollPromQuery(prom, "sum(mfa_mock_verify_attempts_total)",
                                      [&](double v) { return v == attempts; });
  ASSERT_EQ(scraped.value, attempts) << scraped.raw;
  QueryAnswer swept = PollPromQuery(prom, "sum(mfa_mock_store_expired_swept_total)",
                                    [](double v) { return v > 0; });
  ASSERT_GT(swept.value.value_or(0), 0) << swept.raw;
  // Every query is evaluated at one instant, after a scrape that saw all of the load, so the
  // answers do not depend on how long the checks take (a rate's window is 1m).
  const double load_end = UnixSeconds();
  QueryAnswer later = PollPromQuery(prom, R"(timestamp(up{job="mfa-mock"}))",
                                    [&](double t) { return t > load_end; });
  ASSERT_GT(later.value.value_or(0), load_end) << later.raw;
  const std::string at = std::to_string(UnixSeconds());

  // The variables as Grafana resolves them: each query variable's values (label_values), and
  // both selections a user makes: "All" (its allValue) and every value chosen.
  std::map<std::string, std::string> all_selected, each_selected;
  const std::regex kLabelValues(R"(^\s*label_values\((.*),\s*(\w+)\s*\)\s*$)");
  for (const Variable& v : variables_) {
    if (v.type != "query") continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(v.query, m, kLabelValues))
        << "variable $" << v.name << ": only label_values(selector, label) is checked, not "
        << v.query;
    const std::string selector = Substitute(m[1].str(), each_selected);
    const HttpResponse r = HttpClient(prom).Get("/api/v1/label/" + m[2].str() +
                                                "/values?match[]=" + UrlEncode(selector));
    ASSERT_EQ(r.status, 200) << "variable $" << v.name << ": " << r.Describe();
    std::vector<std::string> values;
    const Json answer(r.body);
    for (size_t i = 0; i < answer.Size("/data").value_or(0); ++i) {
      values.push_back(answer.String("/data/" + std::to_string(i)).value_or(""));
    }
    ASSERT_FALSE(values.empty()) << "variable $" << v.name << " (" << selector
                                 << ") has no value: " << r.body;
    ASSERT_TRUE(v.include_all && !v.all_value.empty())
        << "variable $" << v.name << ": the check assumes an All option with an allValue";
    all_selected[v.name] = v.all_value;
    each_selected[v.name] = RegexAlternatives(values);
  }

  for (const auto* selection : {&all_selected, &each_selected}) {
    for (const Panel& p : panels_) {
      for (const Target& t : p.targets) {
        const std::string expr = Substitute(t.expr, *selection);
        EXPECT_EQ(expr.find('$'), std::string::npos) << p.Name() << ": left unsubstituted";
        const HttpResponse r =
            HttpClient(prom).Get("/api/v1/query?time=" + at + "&query=" + UrlEncode(expr));
        const Json answer(r.body);
        bool numbers = false;
        if (r.status == 200 && answer.String("/status") == "success") {
          for (size_t i = 0; i < answer.Size("/data/result").value_or(0); ++i) {
            const std::string value =
                answer.String("/data/result/" + std::to_string(i) + "/value/1").value_or("NaN");
            if (std::isfinite(std::strtod(value.c_str(), nullptr))) numbers = true;
          }
        }
        const std::string last = r.ok() ? std::to_string(r.status) + " " + r.body : r.error;
        EXPECT_TRUE(numbers) << p.Name() << " query " << t.ref_id << " answers no number: " << expr
                             << "\n -> " << last;
      }
    }
  }
}

}  // namespace
}  // namespace mfa_test
