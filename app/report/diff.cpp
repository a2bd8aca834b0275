#include "app/report/diff.hpp"

#include "app/report/format.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace wt::app {

using nlohmann::json;

namespace {

// A field of the wrong type: the report is damaged. Thrown inside diff_reports only, which turns it
// into a DiffError naming the row.
struct BadField {
    std::string what;
};

std::uint64_t count_of(const json& o, const char* key) {
    const auto it = o.find(key);
    if (it == o.end()) {
        return 0;
    }
    if (!it->is_number_unsigned()) {
        throw BadField{fmt::format("\"{}\" is not a count", key)};
    }
    return it->get<std::uint64_t>();
}

// The key of an object name -> count with the largest count ("none", no ServerHello, left out).
std::string usual_key(const json& o, const char* key) {
    const auto it = o.find(key);
    if (it == o.end() || !it->is_object()) {
        return {};
    }
    std::string best;
    std::uint64_t most = 0;
    for (const auto& [k, v] : it->items()) {
        if (!v.is_number_unsigned()) {
            throw BadField{fmt::format("\"{}\".\"{}\" is not a count", key, k)};
        }
        if (k != "none" && v.get<std::uint64_t>() > most) {
            most = v.get<std::uint64_t>();
            best = k;
        }
    }
    return best;
}

DiffSide side_of(const json& row, bool action_row) {
    DiffSide s;
    s.connections = action_row ? count_of(row, "connections_new") + count_of(row, "connections_reused")
                               : count_of(row, "connections");
    s.bytes_up = count_of(row, "bytes_up");
    s.bytes_down = count_of(row, "bytes_down");
    s.tls_version = usual_key(row, "tls_versions");
    s.cipher = usual_key(row, "ciphers");
    s.ech = count_of(row, "ech");
    if (const auto it = row.find("service"); it != row.end() && it->is_string()) {
        s.service = it->get<std::string>();
    }
    return s;
}

// An array of rows keyed by name_key (null names become "(unclassified)" for services, the server
// address for an action's unnamed flows).
std::optional<DiffError> rows_of(const json& doc, const char* side, const char* array, const char* name_key,
                                 std::map<std::string, DiffSide>& out) {
    const auto it = doc.find(array);
    if (it == doc.end() || !it->is_array()) {
        return DiffError{fmt::format("{}: \"{}\" is missing or not an array: not a wiretally report", side, array)};
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& row = (*it)[i];
        if (!row.is_object()) {
            return DiffError{fmt::format("{}: {}[{}] is not an object", side, array, i)};
        }
        const auto name = row.find(name_key);
        if (name == row.end() || !(name->is_string() || name->is_null())) {
            return DiffError{fmt::format("{}: {}[{}].{} is missing", side, array, i, name_key)};
        }
        try {
            out.emplace(name->is_string() ? name->get<std::string>() : std::string("(unclassified)"), side_of(row, false));
        } catch (const BadField& e) {
            return DiffError{fmt::format("{}: {}[{}]: {}", side, array, i, e.what)};
        }
    }
    return std::nullopt;
}

std::vector<DiffRow> join(const std::map<std::string, DiffSide>& a, const std::map<std::string, DiffSide>& b) {
    std::set<std::string> names;
    for (const auto& [name, s] : a) {
        names.insert(name);
    }
    for (const auto& [name, s] : b) {
        names.insert(name);
    }
    std::vector<DiffRow> rows;
    for (const std::string& name : names) {
        DiffRow r;
        r.name = name;
        if (const auto it = a.find(name); it != a.end()) {
            r.a = it->second;
        }
        if (const auto it = b.find(name); it != b.end()) {
            r.b = it->second;
        }
        rows.push_back(std::move(r));
    }
    // What changed first: new names, then gone ones, then changed, then by the change in bytes.
    const auto rank = [](const DiffRow& r) {
        const std::string c = r.change();
        return c == "only_b" ? 0 : c == "only_a" ? 1 : c == "changed" ? 2 : 3;
    };
    const auto moved = [](const DiffRow& r) {
        const std::uint64_t x = r.a ? r.a->bytes() : 0, y = r.b ? r.b->bytes() : 0;
        return x > y ? x - y : y - x;
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const DiffRow& x, const DiffRow& y) {
        return rank(x) != rank(y) ? rank(x) < rank(y) : moved(x) > moved(y);
    });
    return rows;
}

std::optional<DiffError> action_rows(const json& doc, const char* side, std::map<std::string, std::map<std::string, DiffSide>>& out,
                                     std::vector<std::string>& labels) {
    const auto it = doc.find("actions");
    if (it == doc.end() || !it->is_array()) {
        return DiffError{fmt::format("{}: \"actions\" is missing or not an array: not a wiretally report", side)};
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& block = (*it)[i];
        const auto label = block.find("action");
        const auto domains = block.find("domains");
        if (!block.is_object() || label == block.end() || !label->is_string() || domains == block.end() ||
            !domains->is_array()) {
            return DiffError{fmt::format("{}: actions[{}] is not an action block (action, domains[])", side, i)};
        }
        labels.push_back(label->get<std::string>());
        auto& rows = out[label->get<std::string>()];
        for (const json& row : *domains) {
            if (!row.is_object()) {
                return DiffError{fmt::format("{}: actions[{}].domains has a row that is not an object", side, i)};
            }
            const auto name = row.find("name");
            const auto server = row.find("server");
            std::string key = name != row.end() && name->is_string()     ? name->get<std::string>()
                              : server != row.end() && server->is_string() ? "(no name) " + server->get<std::string>()
                                                                           : std::string("(no name)");
            try {
                rows.emplace(std::move(key), side_of(row, true));
            } catch (const BadField& e) {
                return DiffError{fmt::format("{}: actions[{}].domains: {}", side, i, e.what)};
            }
        }
    }
    return std::nullopt;
}

std::string arrow(const std::string& a, const std::string& b) {
    if (a == b) {
        return a.empty() ? "-" : a;
    }
    return fmt::format("{} -> {}", a.empty() ? "-" : a, b.empty() ? "-" : b);
}

json side_json(const std::optional<DiffSide>& s) {
    if (!s) {
        return nullptr;
    }
    const auto text = [](const std::string& t) { return t.empty() ? json(nullptr) : json(t); };
    return json{{"bytes_down", s->bytes_down}, {"bytes_up", s->bytes_up},     {"cipher", text(s->cipher)},
                {"connections", s->connections}, {"ech", s->ech},            {"service", text(s->service)},
                {"tls_version", text(s->tls_version)}};
}

json rows_json(const std::vector<DiffRow>& rows) {
    json out = json::array();
    for (const DiffRow& r : rows) {
        out.push_back({{"name", r.name}, {"change", r.change()}, {"a", side_json(r.a)}, {"b", side_json(r.b)}});
    }
    return out;
}

void render_rows(std::FILE* out, const char* title, const std::vector<DiffRow>& rows, std::size_t top) {
    std::size_t only_a = 0, only_b = 0, changed = 0;
    for (const DiffRow& r : rows) {
        const std::string c = r.change();
        only_a += c == "only_a" ? 1 : 0;
        only_b += c == "only_b" ? 1 : 0;
        changed += c == "changed" ? 1 : 0;
    }
    fmt::print(out, "\n{}: {} only in B (+), {} only in A (-), {} changed (~), {} in both\n", title, only_b, only_a,
               changed, rows.size() - only_a - only_b);
    if (rows.empty()) {
        return;
    }
    const std::size_t shown = std::min(rows.size(), top);
    std::size_t n = 5;
    for (std::size_t i = 0; i < shown; ++i) {
        n = std::max(n, rows[i].name.size() + 1);
    }
    n = std::min<std::size_t>(n, 48);
    fmt::print(out, "  {:<{}}{:>11}{:>11}{:>9} {:<13} {:<20} {}\n", "NAME", n, "BYTES A", "BYTES B", "CHANGE",
               "CONNS A -> B", "TLS A -> B", "CIPHER, ECH");
    for (std::size_t i = 0; i < shown; ++i) {
        const DiffRow& r = rows[i];
        const std::string c = r.change();
        const char marker = c == "only_b" ? '+' : c == "only_a" ? '-' : c == "changed" ? '~' : ' ';
        const std::uint64_t ba = r.a ? r.a->bytes() : 0, bb = r.b ? r.b->bytes() : 0;
        const std::string delta = !r.a || !r.b || ba == 0
                                      ? std::string("")
                                      : fmt::format("{:+.0f}%", (static_cast<double>(bb) - static_cast<double>(ba)) * 100.0 /
                                                                    static_cast<double>(ba));
        std::string extra = arrow(r.a ? r.a->cipher : "", r.b ? r.b->cipher : "");
        if ((r.a && r.a->ech != 0) || (r.b && r.b->ech != 0)) {
            extra += fmt::format(", ECH {} -> {}", r.a ? r.a->ech : 0, r.b ? r.b->ech : 0);
        }
        fmt::print(out, "{} {:<{}}{:>11}{:>11}{:>9} {:<13} {:<20} {}\n", marker, clip(r.name, n - 1), n,
                   r.a ? human_bytes(ba) : "-", r.b ? human_bytes(bb) : "-", delta,
                   fmt::format("{} -> {}", r.a ? r.a->connections : 0, r.b ? r.b->connections : 0),
                   arrow(r.a ? r.a->tls_version : "", r.b ? r.b->tls_version : ""), extra);
    }
    if (rows.size() > shown) {
        fmt::print(out, "  ... {} more (the JSON output lists them all)\n", rows.size() - shown);
    }
}

} // namespace

std::string DiffRow::change() const {
    if (!a) {
        return "only_b";
    }
    if (!b) {
        return "only_a";
    }
    if (a->tls_version != b->tls_version || a->cipher != b->cipher || (a->ech != 0) != (b->ech != 0) ||
        a->service != b->service) {
        return "changed";
    }
    return "same";
}

std::optional<DiffError> diff_reports(const json& a, const json& b, SessionDiff& out) {
    for (const auto& [doc, side] : {std::pair{&a, "A"}, std::pair{&b, "B"}}) {
        if (!doc->is_object()) {
            return DiffError{fmt::format("{}: not a JSON object: not a wiretally report", side)};
        }
    }
    std::map<std::string, DiffSide> sa, sb, da, db;
    for (const auto& [doc, side, services, domains] :
         {std::tuple{&a, "A", &sa, &da}, std::tuple{&b, "B", &sb, &db}}) {
        if (auto e = rows_of(*doc, side, "services", "service", *services)) {
            return e;
        }
        if (auto e = rows_of(*doc, side, "domains", "domain", *domains)) {
            return e;
        }
    }
    out.services = join(sa, sb);
    out.domains = join(da, db);
    for (const DiffRow& r : out.domains) {
        if (!r.a) {
            out.new_domains.push_back(r.name);
        }
    }
    std::sort(out.new_domains.begin(), out.new_domains.end());
    std::map<std::string, std::map<std::string, DiffSide>> aa, ab;
    std::vector<std::string> la, lb;
    if (auto e = action_rows(a, "A", aa, la)) {
        return e;
    }
    if (auto e = action_rows(b, "B", ab, lb)) {
        return e;
    }
    out.same_actions = !la.empty() && la == lb;
    if (out.same_actions) {
        for (const std::string& label : la) {
            out.actions.push_back(ActionDiff{label, join(aa[label], ab[label])});
        }
    }
    return std::nullopt;
}

void render_diff_table(const SessionDiff& d, std::FILE* out, std::size_t top) {
    fmt::print(out, "A: {}\nB: {}\n", d.a_origin, d.b_origin);
    render_rows(out, "SERVICES", d.services, top);
    render_rows(out, "DOMAINS", d.domains, top);
    if (d.same_actions) {
        for (const ActionDiff& a : d.actions) {
            render_rows(out, fmt::format("ACTION {}", a.action).c_str(), a.domains, top);
        }
    } else {
        fmt::print(out, "\nactions: not compared (the two sessions do not have the same action labels)\n");
    }
    if (!d.new_domains.empty()) {
        fmt::print(out, "\nnew in B: {}\n", fmt::join(d.new_domains, ", "));
    }
}

json diff_to_json(const SessionDiff& d) {
    json actions = nullptr;
    if (d.same_actions) {
        actions = json::array();
        for (const ActionDiff& a : d.actions) {
            actions.push_back({{"action", a.action}, {"domains", rows_json(a.domains)}});
        }
    }
    return json{{"a", d.a_origin},      {"b", d.b_origin},         {"services", rows_json(d.services)},
                {"domains", rows_json(d.domains)}, {"actions", actions}, {"new_domains", d.new_domains}};
}

} // namespace wt::app
