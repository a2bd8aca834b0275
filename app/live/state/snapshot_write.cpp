// Writing a snapshot: the tallies as one JSON document (streamed, no DOM), saved
// atomically (temporary file, fsync, rename, fsync of the directory).
#include "app/live/state/snapshot.hpp"
#include "app/live/state/snapshot_format.hpp"

#include "app/report/json_writer.hpp"
#include "app/report/report.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <unordered_map>

namespace wt::app::state {

namespace {

using namespace snapshot_format;

// ---------------------------------------------------------------------------------
// Writing

// A reference the file cannot express (a service id without a name); aborts the save.
struct SaveError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Buffered writes to a file descriptor; the first failure is kept and later writes
// are dropped, so the document code needs no error checks.
class FileOut {
public:
    explicit FileOut(int fd) : _fd(fd) {}

    fmt::memory_buffer& buffer() noexcept { return _buf; }
    void flush_if_large() {
        if (_buf.size() >= kFlushBytes) {
            flush();
        }
    }
    void flush() {
        const char* p = _buf.data();
        std::size_t left = _buf.size();
        while (left != 0 && _errno == 0) {
            const ssize_t n = ::write(_fd, p, left);
            if (n < 0) {
                if (errno != EINTR) {
                    _errno = errno;
                }
                continue;
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        _buf.clear();
    }
    [[nodiscard]] int error_number() const noexcept { return _errno; }

private:
    static constexpr std::size_t kFlushBytes = 1u << 20;
    int _fd;
    int _errno = 0;
    fmt::memory_buffer _buf;
};

void append_stats(fmt::memory_buffer& b, const TransferStats& s) {
    b.push_back('{');
    bool first = true;
    const auto key = [&](std::string_view name) {
        if (!first) {
            b.push_back(',');
        }
        first = false;
        fmt::format_to(std::back_inserter(b), "\"{}\":", name);
    };
    const auto counter = [&](std::string_view name, std::uint64_t v) {
        if (v != 0) {
            key(name);
            fmt::format_to(std::back_inserter(b), "{}", v);
        }
    };
    s.for_each_count([&](std::string_view name, pipeline::TransferRole, std::string_view, std::uint64_t v) {
        counter(name, v);
    });
    counter("cipher_other", s.cipher_other);
    // first_ns may legitimately be 0; "never" is the max value, left out.
    if (s.first_ns != kNoFirstSeen) {
        key("first_ns");
        fmt::format_to(std::back_inserter(b), "{}", s.first_ns);
    }
    counter("last_ns", s.last_ns);
    const auto histogram = [&](std::string_view name, const auto& counts, auto slot_name) {
        bool any = false;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] == 0) {
                continue;
            }
            if (!any) {
                key(name);
                b.push_back('{');
            } else {
                b.push_back(',');
            }
            any = true;
            fmt::format_to(std::back_inserter(b), "\"{}\":{}", slot_name(i), counts[i]);
        }
        if (any) {
            b.push_back('}');
        }
    };
    histogram("tls_versions", s.tls_versions,
              [](std::size_t i) { return pipeline::to_string(static_cast<TlsVersionSlot>(i)); });
    histogram("alpn", s.alpns, [](std::size_t i) { return pipeline::to_string(static_cast<AlpnSlot>(i)); });
    // Cipher slots in slot order: the order decides which ciphers overflow into
    // cipher_other later, so a reload must rebuild the same slots.
    if (s.cipher_counts[0] != 0) {
        key("ciphers");
        b.push_back('[');
        for (std::size_t i = 0; i < pipeline::kCipherSlots && s.cipher_counts[i] != 0; ++i) {
            fmt::format_to(std::back_inserter(b), "{}{{\"id\":{},\"count\":{}}}", i == 0 ? "" : ",", s.cipher_ids[i],
                           s.cipher_counts[i]);
        }
        b.push_back(']');
    }
    b.push_back('}');
}

class DocumentWriter {
public:
    DocumentWriter(FileOut& out, const SnapshotSource& src) : _out(out), _b(out.buffer()), _src(src) {}

    void write(std::uint64_t now_s) {
        check_references();
        _b.append(std::string_view("{\"format\":"));
        append_json_string(_b, kSnapshotFormat);
        fmt::format_to(std::back_inserter(_b), ",\"version\":{},\n\"meta\":{{\"saved_at\":{},\"started_at\":{},"
                                               "\"wiretally_version\":",
                       kSnapshotVersion, now_s, _src.meta.started_at_s);
        append_json_string(_b, _src.meta.version);
        _b.append(std::string_view("},\n\"services\":["));
        const auto& services = _src.tally.services();
        for (std::size_t id = 0; id < _src.service_names.size(); ++id) {
            _b.append(std::string_view(id == 0 ? "\n{\"name\":" : ",\n{\"name\":"));
            append_json_string(_b, _src.service_names[id]);
            _b.append(std::string_view(",\"stats\":"));
            append_stats(_b, id + 1 < services.size() ? services[id + 1] : TransferStats{});
            _b.push_back('}');
            _out.flush_if_large();
        }
        _b.append(std::string_view("],\n\"unclassified\":"));
        append_stats(_b, services.empty() ? TransferStats{} : services[0]);
        _b.append(std::string_view(",\n\"total\":"));
        append_stats(_b, _src.tally.total());
        fmt::format_to(std::back_inserter(_b), ",\n\"table_full_drops\":{},\n\"action_labels\":[",
                       _src.tally.table_full_drops());
        for (std::size_t i = 0; i < _src.action_labels.size(); ++i) {
            _b.append(std::string_view(i == 0 ? "" : ","));
            append_json_string(_b, _src.action_labels[i]);
        }
        _b.push_back(']');
        write_domains();
        write_clients();
        write_client_domains();
        write_actions();
        write_server_names();
        write_device_hints();
        _b.append(std::string_view("}\n"));
        _out.flush();
    }

private:
    // Fails before a byte is written when an entry refers to something without a
    // name: the file could not say what it was.
    void check_references() const {
        const auto& services = _src.tally.services();
        for (std::size_t slot = _src.service_names.size() + 1; slot < services.size(); ++slot) {
            if (services[slot].connections != 0 || services[slot].pkts_up != 0 || services[slot].pkts_down != 0) {
                throw SaveError(fmt::format("service id {} has counts but no name (the registry has {} names)",
                                            slot - 1, _src.service_names.size()));
            }
        }
        const auto check_service = [&](std::int32_t service) {
            if (service >= 0 && static_cast<std::size_t>(service) >= _src.service_names.size()) {
                throw SaveError(fmt::format("an entry refers to service id {} but the registry has {} names", service,
                                            _src.service_names.size()));
            }
        };
        _src.tally.domains().for_each([&](const DomainKey&, const DomainTally& t) { check_service(t.service); });
        _src.tally.server_names().for_each(
            [&](const ServerNameKey&, const ServerNameTally& t) { check_service(t.service); });
        _src.tally.clients().for_each([&](const ClientServiceKey& k, const ClientTally&) { check_service(k.service); });
        _src.tally.actions().for_each([&](const ActionDomainKey& k, const ActionDomainTally& t) {
            check_service(t.service);
            for (const std::uint16_t action : {k.action, t.reused_from}) {
                if (action != pipeline::kNoAction && action != 0 && action > _src.action_labels.size()) {
                    throw SaveError(fmt::format("an entry refers to action {} but there are {} action labels", action,
                                                _src.action_labels.size()));
                }
            }
            if (k.action == 0) {
                throw SaveError("an action entry has no action");
            }
        });
    }

    void service_ref(std::int32_t service) {
        if (service < 0) {
            _b.append(std::string_view("null"));
        } else {
            append_json_string(_b, _src.service_names[static_cast<std::size_t>(service)]);
        }
    }

    void separator(bool& first) {
        _b.append(std::string_view(first ? "\n" : ",\n"));
        first = false;
        _out.flush_if_large();
    }

    void write_domains() {
        _b.append(std::string_view(",\n\"domains\":["));
        bool first = true;
        _src.tally.domains().for_each([&](const DomainKey& k, const DomainTally& t) {
            separator(first);
            _b.append(std::string_view("{\"name\":"));
            append_json_byte_string(_b, k.name.view());
            _b.append(std::string_view(",\"service\":"));
            service_ref(t.service);
            if (!t.matched_by.empty()) {
                _b.append(std::string_view(",\"matched_by\":"));
                append_json_byte_string(_b, t.matched_by.view());
            }
            if (!t.cnames.empty()) {
                _b.append(std::string_view(",\"cnames\":"));
                append_json_byte_string(_b, t.cnames.text());
            }
            if (t.inferred_asn != 0) {
                _b.append(std::string_view(",\"inferred_asn\":"));
                _b.append(std::to_string(t.inferred_asn));
            }
            _b.append(std::string_view(",\"stats\":"));
            append_stats(_b, t.stats);
            _b.push_back('}');
        });
        _b.push_back(']');
    }

    void write_clients() {
        _b.append(std::string_view(",\n\"clients\":["));
        bool first = true;
        _src.tally.clients().for_each([&](const ClientServiceKey& k, const ClientTally& t) {
            separator(first);
            fmt::format_to(std::back_inserter(_b), "{{\"ip\":\"{}\",\"service\":", parsers::to_string(k.client).view());
            service_ref(k.service);
            if (t.has_mac) {
                fmt::format_to(std::back_inserter(_b), ",\"mac\":\"{}\"", mac_text(t.mac));
            }
            _b.append(std::string_view(",\"stats\":"));
            append_stats(_b, t.stats);
            _b.push_back('}');
        });
        _b.push_back(']');
    }

    // Pairs are keyed by the domain name's hash; written by name where the domain
    // table knows it (readable, and independent of the hash function), else by hash.
    void write_client_domains() {
        std::unordered_map<std::uint64_t, std::string_view> name_by_hash;
        _src.tally.domains().for_each(
            [&](const DomainKey& k, const DomainTally&) { name_by_hash.emplace(DomainKeyHash{}(k), k.name.view()); });
        std::unordered_map<std::uint64_t, std::size_t> group_of_hash;
        std::vector<std::pair<std::uint64_t, std::vector<IpAddr>>> groups;
        _src.tally.client_domains().for_each([&](const ClientDomainKey& k, const std::uint8_t&) {
            const auto [it, fresh] = group_of_hash.try_emplace(k.domain_hash, groups.size());
            if (fresh) {
                groups.emplace_back(k.domain_hash, std::vector<IpAddr>{});
            }
            groups[it->second].second.push_back(k.client);
        });
        _b.append(std::string_view(",\n\"client_domains\":["));
        bool first = true;
        for (const auto& [hash, clients] : groups) {
            separator(first);
            if (const auto it = name_by_hash.find(hash); it != name_by_hash.end()) {
                _b.append(std::string_view("{\"domain\":"));
                append_json_byte_string(_b, it->second);
            } else {
                fmt::format_to(std::back_inserter(_b), "{{\"domain_hash\":{}", hash);
            }
            _b.append(std::string_view(",\"clients\":["));
            for (std::size_t i = 0; i < clients.size(); ++i) {
                fmt::format_to(std::back_inserter(_b), "{}\"{}\"", i == 0 ? "" : ",",
                               parsers::to_string(clients[i]).view());
                _out.flush_if_large();
            }
            _b.append(std::string_view("]}"));
        }
        _b.push_back(']');
    }

    void write_actions() {
        _b.append(std::string_view(",\n\"actions\":["));
        bool first = true;
        _src.tally.actions().for_each([&](const ActionDomainKey& k, const ActionDomainTally& t) {
            separator(first);
            _b.append(std::string_view("{\"action\":"));
            append_json_string(_b, _src.action_labels[k.action - 1u]);
            if (k.name.empty()) {
                fmt::format_to(std::back_inserter(_b), ",\"domain\":null,\"server\":\"{}\"",
                               parsers::to_string(k.server).view());
            } else {
                _b.append(std::string_view(",\"domain\":"));
                append_json_byte_string(_b, k.name.view());
            }
            _b.append(std::string_view(",\"service\":"));
            service_ref(t.service);
            fmt::format_to(std::back_inserter(_b),
                           ",\"connections_reused\":{},\"dns_lookups\":{},\"dns_failed\":{},\"dns_failed_rcode\":{},"
                           "\"reused_from\":",
                           t.connections_reused, t.dns_lookups, t.dns_failed, t.dns_failed_rcode);
            if (t.reused_from == pipeline::kNoAction) {
                _b.append(std::string_view("null"));
            } else if (t.reused_from == 0) {
                _b.append(std::string_view("\"\""));
            } else {
                append_json_string(_b, _src.action_labels[t.reused_from - 1u]);
            }
            _b.append(std::string_view(",\"stats\":"));
            append_stats(_b, t.stats);
            _b.push_back('}');
            _out.flush_if_large();
        });
        _b.push_back(']');
    }

    // Snapshots written before the devices have no device_hints (the reader accepts that).
    void write_device_hints() {
        _b.append(std::string_view(",\n\"device_hints\":["));
        bool first = true;
        _src.tally.device_hints().for_each([&](const DeviceHintKey& k, const DeviceHint& h) {
            separator(first);
            fmt::format_to(std::back_inserter(_b), "{{\"mac\":\"{}\",\"addresses\":[", mac_text(k.mac.data()));
            for (std::uint8_t i = 0; i < h.address_count; ++i) {
                fmt::format_to(std::back_inserter(_b), "{}\"{}\"", i == 0 ? "" : ",", parsers::to_string(h.addresses[i]).view());
            }
            _b.append(std::string_view("],\"sources\":["));
            bool first_source = true;
            for (const auto& [bit, name] : pipeline::kDeviceHintSources) {
                if (h.sources & bit) {
                    separator(first_source);
                    append_json_string(_b, name);
                }
            }
            for (const auto& [name, text] : {std::pair{"host_name", h.host_name.view()}, std::pair{"vendor_class", h.vendor_class.view()}}) {
                fmt::format_to(std::back_inserter(_b), "{}\"{}\":", name[0] == 'h' ? "]," : ",", name);
                if (text.empty()) {
                    _b.append(std::string_view("null"));
                } else {
                    append_json_byte_string(_b, text);
                }
            }
            _b.push_back('}');
            _out.flush_if_large();
        });
        _b.push_back(']');
    }

    // Snapshots written before the servers view have no server_names (the reader accepts that).
    void write_server_names() {
        _b.append(std::string_view(",\n\"server_names\":["));
        bool first = true;
        _src.tally.server_names().for_each([&](const ServerNameKey& k, const ServerNameTally& t) {
            separator(first);
            fmt::format_to(std::back_inserter(_b), "{{\"server\":\"{}\",\"name\":", parsers::to_string(k.server).view());
            if (t.name.empty()) {
                _b.append(std::string_view("null"));
            } else {
                append_json_byte_string(_b, t.name.view());
            }
            _b.append(std::string_view(",\"service\":"));
            service_ref(t.service);
            _b.append(std::string_view(",\"sources\":["));
            bool first_source = true;
            for (const std::string_view source : name_source_list(t.name_sources)) {
                separator(first_source);
                append_json_string(_b, source);
            }
            _b.append(std::string_view("],\"stats\":"));
            append_stats(_b, t.stats);
            _b.push_back('}');
            _out.flush_if_large();
        });
        _b.push_back(']');
    }

    FileOut& _out;
    fmt::memory_buffer& _b;
    const SnapshotSource& _src;
};

bool fsync_directory(const std::filesystem::path& dir, std::string& error) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        error = fmt::format("cannot open directory {} to sync it: {}", dir.string(), errno_text(errno));
        return false;
    }
    const bool ok = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
        error = fmt::format("cannot sync directory {}: {}", dir.string(), errno_text(err));
    }
    return ok;
}

} // namespace

bool save_snapshot(const std::string& path, const SnapshotContent& content, std::string& error) {
    return save_snapshot(path, SnapshotSource{content.meta, content.service_names, content.action_labels, content.tally},
                         error);
}

bool save_snapshot(const std::string& path, const SnapshotSource& content, std::string& error) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        error = fmt::format("{}: cannot create directory {}: {}", path, dir.string(), ec.message());
        return false;
    }
    // Same directory as the target, so the rename stays within one file system.
    const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = fmt::format("{}: cannot create {}: {}", path, tmp, errno_text(errno));
        return false;
    }
    const auto abandon = [&](std::string reason) {
        ::close(fd);
        ::unlink(tmp.c_str());
        error = fmt::format("{}: {}", path, reason);
        return false;
    };
    FileOut out(fd);
    try {
        DocumentWriter(out, content).write(static_cast<std::uint64_t>(std::time(nullptr)));
    } catch (const SaveError& e) {
        return abandon(fmt::format("not saved: {}", e.what()));
    } catch (const std::exception& e) {
        return abandon(fmt::format("not saved: {}", e.what()));
    }
    if (out.error_number() != 0) {
        return abandon(fmt::format("cannot write {}: {}", tmp, errno_text(out.error_number())));
    }
    if (::fsync(fd) != 0) {
        return abandon(fmt::format("cannot sync {}: {}", tmp, errno_text(errno)));
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        error = fmt::format("{}: cannot close {}: {}", path, tmp, errno_text(err));
        return false;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        error = fmt::format("{}: cannot rename {} over it: {}", path, tmp, errno_text(err));
        return false;
    }
    // Without this the rename itself may not survive a power cut.
    std::string sync_error;
    if (!fsync_directory(dir, sync_error)) {
        error = fmt::format("{}: saved, but {}", path, sync_error);
        return false;
    }
    return true;
}

} // namespace wt::app::state
