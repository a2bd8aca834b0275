#include "parsers/tls/ech.hpp"

namespace wt::parsers {

namespace {

// RFC 9849 section 4: "public_name ... The client MUST ignore any ECHConfig structure with a
// public_name that is not a valid host name in preferred name syntax" (RFC 1034 section 3.5:
// LDH labels of 1..63 octets, '.'-separated; a trailing dot is not part of the syntax). Written
// lowercased, the form the DNS parser gives names, so it compares with a lowercased SNI.
bool store_public_name(Bytes name, DomainName& out) noexcept {
    if (name.empty() || name.size() > DomainName::capacity()) {
        return false;
    }
    std::size_t label = 0;
    out.clear();
    for (const std::uint8_t c : name) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
        } else {
            const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            const bool digit = c >= '0' && c <= '9';
            if (!letter && !digit && c != '-') {
                return false;
            }
            if (++label > 63) {
                return false;
            }
        }
        out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
    }
    return label != 0;
}

// One ECHConfigContents (section 4): HpkeKeyConfig, maximum_name_length, public_name, extensions.
ParseStatus parse_contents(ByteReader contents, EchConfigSummary& out) noexcept {
    std::uint8_t config_id = 0;
    std::uint16_t kem_id = 0;
    if (!contents.read_u8(config_id) || !contents.read_u16(kem_id)) {
        return ParseStatus::kMalformed;
    }
    // HpkePublicKey public_key<1..2^16-1>; HpkeSymmetricCipherSuite cipher_suites<4..2^16-4>.
    const auto public_key = contents.read_prefixed_u16();
    const auto suites = contents.read_prefixed_u16();
    if (!public_key || public_key->empty() || !suites || suites->remaining() < 4 || suites->remaining() % 4 != 0) {
        return ParseStatus::kMalformed;
    }
    std::uint8_t maximum_name_length = 0;
    if (!contents.read_u8(maximum_name_length)) {
        return ParseStatus::kMalformed;
    }
    const auto public_name = contents.read_prefixed_u8();
    const auto extensions = contents.read_prefixed_u16();
    if (!public_name || public_name->empty() || !extensions || !contents.empty()) {
        return ParseStatus::kMalformed;
    }
    DomainName name;
    if (!store_public_name(public_name->rest(), name)) {
        return ParseStatus::kOk; // a config the client must ignore: not an error in the list
    }
    if (out.config_count == 0) {
        out.public_name = name;
    }
    if (out.public_name == name && out.config_count < out.config_ids.size()) {
        out.config_ids[out.config_count++] = config_id;
    } else if (out.configs_not_kept < 0xff) {
        ++out.configs_not_kept;
    }
    return ParseStatus::kOk;
}

} // namespace

ParseStatus parse_ech_config_list(Bytes list, EchConfigSummary& out) noexcept {
    out = EchConfigSummary{};
    ByteReader outer(list);
    auto configs = outer.read_prefixed_u16();
    if (!configs || configs->remaining() < 4 || !outer.empty()) {
        return ParseStatus::kMalformed;
    }
    // Each ECHConfig takes at least 4 bytes (version, length), so this loop ends within
    // list.size() / 4 rounds.
    while (!configs->empty()) {
        std::uint16_t version = 0;
        if (!configs->read_u16(version)) {
            return ParseStatus::kMalformed;
        }
        auto contents = configs->read_prefixed_u16();
        if (!contents) {
            return ParseStatus::kMalformed;
        }
        if (version != kEchConfigVersion) {
            if (out.unknown_versions < 0xff) {
                ++out.unknown_versions;
            }
            continue;
        }
        const ParseStatus st = parse_contents(*contents, out);
        if (st != ParseStatus::kOk) {
            return st;
        }
    }
    return ParseStatus::kOk;
}

ParseStatus parse_ech_client_hello(Bytes extension_data, EchClientHello& out) noexcept {
    out = EchClientHello{};
    ByteReader r(extension_data);
    std::uint8_t type = 0;
    if (!r.read_u8(type)) {
        return ParseStatus::kMalformed;
    }
    if (type == static_cast<std::uint8_t>(EchHelloType::kInner)) {
        out.type = EchHelloType::kInner;
        return r.empty() ? ParseStatus::kOk : ParseStatus::kMalformed;
    }
    if (type != static_cast<std::uint8_t>(EchHelloType::kOuter)) {
        return ParseStatus::kMalformed;
    }
    // HpkeSymmetricCipherSuite cipher_suite; uint8 config_id; opaque enc<0..2^16-1>;
    // opaque payload<1..2^16-1>.
    if (!r.read_u16(out.kdf_id) || !r.read_u16(out.aead_id) || !r.read_u8(out.config_id)) {
        return ParseStatus::kMalformed;
    }
    const auto enc = r.read_prefixed_u16();
    const auto payload = r.read_prefixed_u16();
    if (!enc || !payload || payload->empty() || !r.empty()) {
        return ParseStatus::kMalformed;
    }
    out.enc_length = static_cast<std::uint16_t>(enc->remaining());
    out.payload_length = static_cast<std::uint16_t>(payload->remaining());
    return ParseStatus::kOk;
}

} // namespace wt::parsers
