#include "pipeline/classify/services.hpp"
#include "parsers/common/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <toml.hpp>

#include "pipeline/classify/toml_text.hpp"

#include "pipeline/classify/regex.hpp"

namespace wt::pipeline {
namespace {

using toml_text::line_of;
using toml_text::type_name;

// RFC 1035 section 2.3.4: labels are 1..63 octets and a name is at most 255 octets on the wire,
// which is 253 characters in dotted text form without the trailing dot.
constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
// A services file or domains_file larger than this is a mistake (the biggest public blocklists
// are ~50 MB); it also bounds the line loops below.
constexpr std::size_t kMaxFileSize = std::size_t{512} << 20;

constexpr std::array<std::string_view, 5> kServiceKeys = {"name", "category", "patterns", "domains_file", "asns"};

// Hosts files start with entries for the machine itself; they are not services.
constexpr std::array<std::string_view, 11> kHostsBoilerplate = {
    "localhost",     "localhost.localdomain", "local",          "broadcasthost",
    "ip6-localhost", "ip6-loopback",          "ip6-localnet",   "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts"};

char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string describe_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u == ' ') {
        return "space";
    }
    if (u > 0x20 && u < 0x7f) {
        return fmt::format("'{}'", c);
    }
    return fmt::format("byte 0x{:02x}", u);
}

// Lowercases and validates a domain name in text form; returns the reason on failure.
std::string normalize_domain(std::string_view in, std::string& out) {
    out.clear();
    if (!in.empty() && in.back() == '.') {
        in.remove_suffix(1);
    }
    if (in.empty()) {
        return "empty domain name";
    }
    if (in.size() > kMaxNameLength) {
        return fmt::format("name longer than {} characters (RFC 1035 section 2.3.4)", kMaxNameLength);
    }
    std::size_t label = 0;
    for (const char c : in) {  // bounded by kMaxNameLength
        const char l = to_lower(c);
        if (l == '.') {
            if (label == 0) {
                return "empty label";
            }
            label = 0;
        } else if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' || l == '_') {
            if (++label > kMaxLabelLength) {
                return fmt::format("label longer than {} characters (RFC 1035 section 2.3.4)", kMaxLabelLength);
            }
        } else if (l == '*') {
            return "'*' is only allowed as a leading \"*.\"";
        } else {
            return fmt::format("invalid character {} in domain name", describe_char(c));
        }
        out.push_back(l);
    }
    if (label == 0) {
        return "empty label";
    }
    return {};
}

bool is_address(std::string_view tok) {
    if (tok.size() > INET6_ADDRSTRLEN) {
        return false;
    }
    const std::string s(tok);
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}




// toml11 3.7 formats what() as
//   "[error] toml::parse_xxx: reason\n --> file\n    |\n 3 | source line\n   |   ^--- note\n ...\n 4 | ..."
// with one or more excerpts; the last one is where parsing failed. We keep the reason, the last
// excerpt that has source text (its line number, its note) and that source line as the bad entry.
ServicesError from_toml_exception(const toml::exception& e, const std::string& origin) {
    struct Excerpt {
        int line = 0;
        std::string_view text;
        std::string_view note;
    };
    const std::string_view what = e.what();
    std::string_view reason;
    Excerpt best;
    Excerpt current;
    std::size_t pos = 0;
    bool first = true;
    while (pos < what.size()) {  // bounded by the message length
        std::size_t nl = what.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = what.size();
        }
        const std::string_view line = what.substr(pos, nl - pos);
        pos = nl + 1;
        if (first) {
            reason = line;
            first = false;
            continue;
        }
        const std::size_t bar = line.find('|');
        if (bar == std::string_view::npos) {
            continue;
        }
        const std::string_view num = parsers::trim_blanks(line.substr(0, bar));
        std::string_view rest = line.substr(bar + 1);
        if (!rest.empty() && rest.front() == ' ') {
            rest.remove_prefix(1);
        }
        if (!num.empty()) {
            int n = 0;
            for (const char c : num) {
                if (c < '0' || c > '9' || n > 100000000) {
                    n = -1;
                    break;
                }
                n = n * 10 + (c - '0');
            }
            if (n > 0) {
                current = Excerpt{n, parsers::trim_blanks(rest), {}};
                if (!current.text.empty()) {
                    best = current;
                }
            }
        } else if (current.line > 0 && (rest.find('^') != std::string_view::npos ||
                                        rest.find('~') != std::string_view::npos)) {
            std::string_view note = parsers::trim_blanks(rest);
            while (!note.empty() && (note.front() == '^' || note.front() == '-' || note.front() == '~' ||
                                     note.front() == ' ')) {
                note.remove_prefix(1);
            }
            if (best.line == current.line) {
                best.note = note;
            }
        }
    }
    if (reason.starts_with("[error] ")) {
        reason.remove_prefix(8);
    }
    if (reason.starts_with("toml::")) {
        const std::size_t colon = reason.find(": ");
        if (colon != std::string_view::npos) {
            reason.remove_prefix(colon + 2);
        }
    }
    reason = parsers::trim_blanks(reason);
    if (!reason.empty() && reason.back() == '.') {
        reason.remove_suffix(1);
    }
    ServicesError err{origin, best.line > 0 ? best.line : static_cast<int>(e.location().line()), {}};
    err.message = fmt::format("TOML syntax error: {}", reason);
    if (!best.note.empty()) {
        err.message += fmt::format(": {}", best.note);
    }
    if (!best.text.empty()) {
        err.message += fmt::format(" ({})", best.text);
    }
    return err;
}

// Reads a whole file; on failure returns false and the strerror text in `error`.
bool read_file(const std::string& path, std::string& out, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = std::strerror(EISDIR);
        return false;
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = std::strerror(errno);
        return false;
    }
    out.clear();
    std::array<char, 65536> buf{};
    bool ok = true;
    for (;;) {  // bounded by kMaxFileSize
        const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
        out.append(buf.data(), n);
        if (out.size() > kMaxFileSize) {
            error = fmt::format("file larger than {} MiB", kMaxFileSize >> 20);
            ok = false;
            break;
        }
        if (n < buf.size()) {
            if (std::ferror(f) != 0) {
                error = std::strerror(errno);
                ok = false;
            }
            break;
        }
    }
    std::fclose(f);
    return ok;
}

class Loader {
public:
    Loader(std::string_view origin, std::string base_dir) : _origin(origin), _base_dir(std::move(base_dir)) {
        _catalog.sources.push_back(_origin);
    }

    ServicesResult run(std::string_view text) {
        toml::value root;
        try {
            std::istringstream in{std::string(text)};
            root = toml::parse(in, _origin);
        } catch (const toml::exception& e) {
            return from_toml_exception(e, _origin);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            return ServicesError{_origin, 0, fmt::format("cannot parse TOML: {}", e.what())};
        }
        try {
            if (auto err = load_root(root)) {
                return *std::move(err);
            }
        } catch (const toml::exception& e) {
            return ServicesError{_origin, static_cast<int>(e.location().line()), first_line(e.what())};
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            return ServicesError{_origin, 0, e.what()};
        }
        return std::move(_catalog);
    }

private:
    static std::string first_line(std::string_view s) { return std::string(s.substr(0, s.find('\n'))); }

    ServicesError error(int line, std::string message) const { return ServicesError{_origin, line, std::move(message)}; }

    std::optional<ServicesError> load_root(const toml::value& root) {
        if (!root.is_table()) {
            return error(line_of(root), "the services file must be a TOML table");
        }
        const toml::table& top = root.as_table();
        // Report the first unknown key in file order; toml::table is unordered.
        const std::pair<const std::string, toml::value>* unknown = nullptr;
        for (const auto& kv : top) {
            if (kv.first != "service" && kv.first != "include" &&
                (unknown == nullptr || line_of(kv.second) < line_of(unknown->second))) {
                unknown = &kv;
            }
        }
        if (unknown != nullptr) {
            return error(line_of(unknown->second),
                         fmt::format("unknown top-level key, expected include = [\"default\"] and [[service]] tables "
                                     "({})",
                                     unknown->first));
        }
        if (const auto inc = top.find("include"); inc != top.end()) {
            if (auto err = load_includes(inc->second)) {
                return err;
            }
        }
        const auto it = top.find("service");
        if (it == top.end()) {
            return std::nullopt;  // an empty catalog is valid: nothing is classified
        }
        if (!it->second.is_array()) {
            return error(line_of(it->second),
                         fmt::format("'service' must be an array of tables written [[service]], got {} (service)",
                                     type_name(it->second.type())));
        }
        for (const toml::value& t : it->second.as_array()) {
            if (auto err = load_service(t)) {
                return err;
            }
        }
        return std::nullopt;
    }

    // include = ["default"]: the embedded default services come first, then this file's, which add
    // services or replace an included one of the same name (so a user file extends the defaults).
    std::optional<ServicesError> load_includes(const toml::value& v) {
        if (!v.is_array()) {
            return error(line_of(v), fmt::format("'include' must be an array of strings, e.g. include = [\"default\"], "
                                                 "got {} (include)",
                                                 type_name(v.type())));
        }
        for (const toml::value& item : v.as_array()) {
            if (!item.is_string() || item.as_string().str != "default") {
                return error(line_of(item), fmt::format("unknown include {}; the one there is: \"default\" (include)",
                                                        item.is_string() ? fmt::format("{:?}", item.as_string().str)
                                                                         : std::string(type_name(item.type()))));
            }
            if (_included_default) {
                continue;
            }
            _included_default = true;
            ServicesResult base = load_default_services();
            if (auto* e = std::get_if<ServicesError>(&base)) {
                return *e;
            }
            for (Service& s : std::get<ServiceCatalog>(base).services) {
                std::string folded(s.name);
                std::transform(folded.begin(), folded.end(), folded.begin(), to_lower);
                _included.emplace(std::move(folded), _catalog.services.size());
                _catalog.services.push_back(std::move(s));
            }
            _catalog.sources.push_back("<default services>");
        }
        return std::nullopt;
    }

    std::optional<ServicesError> load_service(const toml::value& t) {
        const int tline = line_of(t);
        if (!t.is_table()) {
            return error(tline, fmt::format("'service' must be an array of tables written [[service]], got {} "
                                            "(service)", type_name(t.type())));
        }
        const toml::table& tab = t.as_table();
        const std::pair<const std::string, toml::value>* unknown = nullptr;
        for (const auto& kv : tab) {
            const bool known = std::find(kServiceKeys.begin(), kServiceKeys.end(), kv.first) != kServiceKeys.end();
            if (!known && (unknown == nullptr || line_of(kv.second) < line_of(unknown->second))) {
                unknown = &kv;
            }
        }
        if (unknown != nullptr) {
            return error(line_of(unknown->second),
                         fmt::format("unknown key in [[service]], expected name, category, patterns, "
                                     "domains_file or asns ({})", unknown->first));
        }

        Service svc;
        svc.line = static_cast<std::uint32_t>(tline);
        const auto name_it = tab.find("name");
        if (name_it == tab.end()) {
            return error(tline, "[[service]] without a 'name' ([[service]])");
        }
        if (!name_it->second.is_string()) {
            return error(line_of(name_it->second), fmt::format("'name' must be a string, got {} (name)",
                                                               type_name(name_it->second.type())));
        }
        const std::string& raw_name = name_it->second.as_string().str;
        svc.name = std::string(parsers::trim_blanks(raw_name));
        const int name_line = line_of(name_it->second);
        if (svc.name.empty()) {
            return error(name_line, fmt::format("empty service name (name = {:?})", raw_name));
        }
        std::string folded(svc.name);
        std::transform(folded.begin(), folded.end(), folded.begin(), to_lower);
        // A service of the file with the name of an included one replaces it, in its place.
        std::optional<std::size_t> replaces;
        if (const auto inc = _included.find(folded); inc != _included.end()) {
            replaces = inc->second;
            _included.erase(inc);
        }
        const auto [dup, inserted] = _names.emplace(std::move(folded), name_line);
        if (!inserted) {
            return error(name_line, fmt::format("duplicate service name, first defined at line {} ({:?})",
                                                dup->second, svc.name));
        }

        if (const auto cat = tab.find("category"); cat != tab.end()) {
            if (!cat->second.is_string()) {
                return error(line_of(cat->second), fmt::format("'category' must be a string, got {} (category)",
                                                               type_name(cat->second.type())));
            }
            svc.category = std::string(parsers::trim_blanks(cat->second.as_string().str));
            if (svc.category.empty()) {
                return error(line_of(cat->second),
                             fmt::format("empty category (category = {:?})", cat->second.as_string().str));
            }
        }

        std::unordered_set<std::string> seen;
        const auto pats = tab.find("patterns");
        const auto file = tab.find("domains_file");
        if (pats == tab.end() && file == tab.end()) {
            return error(tline, fmt::format("service has no 'patterns' and no 'domains_file' ({:?})", svc.name));
        }
        if (pats != tab.end()) {
            if (auto err = load_patterns(pats->second, svc, seen)) {
                return err;
            }
        }
        if (file != tab.end()) {
            if (auto err = load_domains_file(file->second, svc, seen)) {
                return err;
            }
        }
        if (const auto asns = tab.find("asns"); asns != tab.end()) {
            if (auto err = load_asns(asns->second, svc)) {
                return err;
            }
        }
        if (replaces) {
            _catalog.services[*replaces] = std::move(svc);
        } else {
            _catalog.services.push_back(std::move(svc));
        }
        return std::nullopt;
    }

    // RFC 6793: 4-octet AS numbers, 1..4294967295 (0 is reserved, RFC 7607).
    std::optional<ServicesError> load_asns(const toml::value& v, Service& svc) {
        if (!v.is_array()) {
            return error(line_of(v), fmt::format("'asns' must be an array of AS numbers, got {} (asns)",
                                                 type_name(v.type())));
        }
        for (const toml::value& e : v.as_array()) {
            const int line = line_of(e);
            if (!e.is_integer() || e.as_integer() < 1 || e.as_integer() > 4294967295LL) {
                return error(line, fmt::format("an AS number is an integer from 1 to 4294967295 (service {:?})",
                                               svc.name));
            }
            const auto asn = static_cast<std::uint32_t>(e.as_integer());
            const auto [owner, fresh] = _asn_owner.emplace(asn, svc.name);
            if (!fresh && owner->second != svc.name) {
                return error(line, fmt::format("AS{} is already in service {:?} (service {:?})", asn, owner->second,
                                               svc.name));
            }
            if (std::find(svc.asns.begin(), svc.asns.end(), asn) == svc.asns.end()) {
                svc.asns.push_back(asn);
            }
        }
        return std::nullopt;
    }

    static bool add_pattern(ServicePattern&& p, Service& svc, std::unordered_set<std::string>& seen) {
        std::string key;
        key.reserve(p.value.size() + 1);
        key.push_back(static_cast<char>('0' + static_cast<int>(p.kind)));
        key += p.value;
        if (!seen.insert(std::move(key)).second) {
            return false;  // duplicate within the service: merged
        }
        svc.patterns.push_back(std::move(p));
        return true;
    }

    std::optional<ServicesError> load_patterns(const toml::value& v, Service& svc,
                                               std::unordered_set<std::string>& seen) {
        if (!v.is_array()) {
            return error(line_of(v), fmt::format("'patterns' must be an array of strings, got {} (patterns)",
                                                 type_name(v.type())));
        }
        const toml::array& arr = v.as_array();
        if (arr.empty()) {
            return error(line_of(v), fmt::format("empty 'patterns' array (service {:?})", svc.name));
        }
        for (const toml::value& e : arr) {
            const int line = line_of(e);
            if (!e.is_string()) {
                return error(line, fmt::format("pattern must be a string, got {} (service {:?})",
                                               type_name(e.type()), svc.name));
            }
            const std::string& text = e.as_string().str;
            auto parsed = parse_pattern(text);
            if (auto* reason = std::get_if<std::string>(&parsed)) {
                return error(line, fmt::format("invalid pattern: {} ({:?})", *reason, text));
            }
            ServicePattern p = std::get<ServicePattern>(std::move(parsed));
            if (p.kind == PatternKind::kRegex) {
                if (std::string why = check_service_regex(p.value); !why.empty()) {
                    return error(line, fmt::format("invalid regex: {} ({:?})", why, text));
                }
            }
            p.source = 0;
            p.line = static_cast<std::uint32_t>(line);
            add_pattern(std::move(p), svc, seen);
        }
        return std::nullopt;
    }

    std::optional<ServicesError> load_domains_file(const toml::value& v, Service& svc,
                                                   std::unordered_set<std::string>& seen) {
        const int decl_line = line_of(v);
        if (!v.is_string()) {
            return error(decl_line, fmt::format("'domains_file' must be a string, got {} (domains_file)",
                                                type_name(v.type())));
        }
        const std::string& given = v.as_string().str;
        if (given.empty()) {
            return error(decl_line, "empty 'domains_file' path (domains_file = \"\")");
        }
        std::filesystem::path path(given);
        if (path.is_relative() && !_base_dir.empty()) {
            path = std::filesystem::path(_base_dir) / path;
        }
        const std::string path_str = path.string();
        std::string text;
        std::string why;
        if (!read_file(path_str, text, why)) {
            return error(decl_line, fmt::format("cannot read domains_file {}: {} ({:?})", path_str, why, given));
        }
        if (_catalog.sources.size() >= std::numeric_limits<std::uint32_t>::max()) {
            return error(decl_line, "too many domains files");
        }
        const auto source = static_cast<std::uint32_t>(_catalog.sources.size());
        _catalog.sources.push_back(path_str);

        std::size_t names = 0;
        std::size_t pos = 0;
        std::uint32_t line_no = 0;
        std::vector<std::string_view> tokens;
        while (pos < text.size()) {  // bounded by kMaxFileSize
            std::size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) {
                nl = text.size();
            }
            std::string_view line = std::string_view(text).substr(pos, nl - pos);
            pos = nl + 1;
            ++line_no;
            if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
                line = line.substr(0, hash);
            }
            tokens.clear();
            std::size_t i = 0;
            while (i < line.size()) {  // bounded by the line length
                while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
                    ++i;
                }
                const std::size_t start = i;
                while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
                    ++i;
                }
                if (i > start) {
                    tokens.push_back(line.substr(start, i - start));
                }
            }
            if (tokens.empty()) {
                continue;
            }
            auto file_error = [&](std::string msg) {
                return ServicesError{path_str, static_cast<int>(line_no), std::move(msg)};
            };
            std::size_t first = 0;
            const bool hosts = is_address(tokens[0]);
            if (hosts) {
                if (tokens.size() == 1) {
                    return file_error(fmt::format("address without names ({})", parsers::trim_blanks(line)));
                }
                first = 1;
            } else if (tokens.size() > 1) {
                return file_error(
                    fmt::format("expected one name per line or a hosts line 'ADDRESS NAME...' ({})", parsers::trim_blanks(line)));
            }
            for (std::size_t t = first; t < tokens.size(); ++t) {
                const std::string_view tok = tokens[t];
                if (hosts && (is_address(tok) ||
                              std::find(kHostsBoilerplate.begin(), kHostsBoilerplate.end(), tok) !=
                                  kHostsBoilerplate.end())) {
                    continue;
                }
                if (tok.front() == '/') {
                    return file_error(fmt::format("regexes are not allowed in a domains_file ({:?})", tok));
                }
                auto parsed = parse_pattern(tok);
                if (auto* reason = std::get_if<std::string>(&parsed)) {
                    return file_error(fmt::format("invalid name: {} ({:?})", *reason, tok));
                }
                ServicePattern p = std::get<ServicePattern>(std::move(parsed));
                p.source = source;
                p.line = line_no;
                add_pattern(std::move(p), svc, seen);
                ++names;
            }
        }
        if (names == 0) {
            return error(decl_line, fmt::format("domains_file {} contains no names ({:?})", path_str, given));
        }
        return std::nullopt;
    }

    std::string _origin;
    std::string _base_dir;
    ServiceCatalog _catalog;
    std::unordered_map<std::string, int> _names;  // case-folded service name -> line
    std::unordered_map<std::string, std::size_t> _included; // case-folded name of an included service -> index
    std::unordered_map<std::uint32_t, std::string> _asn_owner; // AS number -> the service that claims it
    bool _included_default = false;
};

}  // namespace

std::size_t ServiceCatalog::pattern_count() const noexcept {
    std::size_t n = 0;
    for (const Service& s : services) {
        n += s.patterns.size();
    }
    return n;
}

std::string ServicesError::format() const {
    if (line > 0) {
        return fmt::format("{}:{}: {}", file, line, message);
    }
    return fmt::format("{}: {}", file, message);
}

std::variant<ServicePattern, std::string> parse_pattern(std::string_view text) {
    ServicePattern p;
    if (text.empty()) {
        return std::string("empty pattern");
    }
    if (text.front() == '/') {
        if (text.size() < 3 || text.back() != '/') {
            return std::string("a regex is written /expression/ with a non-empty expression");
        }
        const std::string_view expr = text.substr(1, text.size() - 2);
        if (expr.find('\0') != std::string_view::npos) {
            return std::string("NUL character in regex");
        }
        p.kind = PatternKind::kRegex;
        p.value = std::string(expr);
        return p;
    }
    std::string_view name = text;
    if (name.front() == '=') {
        p.kind = PatternKind::kExact;
        name.remove_prefix(1);
    } else if (name.starts_with("*.")) {
        p.kind = PatternKind::kSubdomains;
        name.remove_prefix(2);
    }
    if (std::string reason = normalize_domain(name, p.value); !reason.empty()) {
        return reason;
    }
    return p;
}

ServicesResult load_services_text(std::string_view toml_text, std::string_view origin_name,
                                  const std::string& base_dir) {
    Loader loader(origin_name, base_dir);
    return loader.run(toml_text);
}

ServicesResult load_services_file(const std::string& path) {
    std::string text;
    std::string why;
    if (!read_file(path, text, why)) {
        return ServicesError{path, 0, fmt::format("cannot read services file: {}", why)};
    }
    const std::string base_dir = std::filesystem::path(path).parent_path().string();
    return load_services_text(text, path, base_dir);
}

ServicesResult load_default_services() {
    return load_services_text(default_services_toml(), "<default services>", "");
}

}  // namespace wt::pipeline
