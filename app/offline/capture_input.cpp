#include "app/offline/capture_input.hpp"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>

namespace wt::app {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 30; // zlib counts in 32-bit units

bool is_gzip(parsers::Bytes b) noexcept { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }
bool is_zstd(parsers::Bytes b) noexcept {
    return b.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd;
}

std::size_t machine_memory() noexcept {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                                 : std::size_t{8} << 30;
}

// The decompressed bytes, grown by doubling up to a limit.
class Output {
public:
    explicit Output(std::size_t limit) : _limit(limit) {}
    // Room for at least `want` more bytes; false when the limit is reached or memory runs out
    // (`out_of_memory` tells which).
    bool reserve_more(std::size_t want, bool& out_of_memory) {
        out_of_memory = false;
        if (_bytes.size() - _used >= want) {
            return true;
        }
        if (_used >= _limit) {
            return false;
        }
        const std::size_t target = std::min(_limit, std::max(_used + want, std::max<std::size_t>(_bytes.size() * 2, 1 << 20)));
        try {
            _bytes.resize(target);
        } catch (const std::bad_alloc&) {
            out_of_memory = true;
            return false;
        }
        return true;
    }
    [[nodiscard]] std::uint8_t* tail() noexcept { return _bytes.data() + _used; }
    [[nodiscard]] std::size_t room() const noexcept { return _bytes.size() - _used; }
    void advance(std::size_t n) noexcept { _used += n; }
    [[nodiscard]] std::size_t used() const noexcept { return _used; }
    std::vector<std::uint8_t> take() {
        _bytes.resize(_used);
        _bytes.shrink_to_fit();
        return std::move(_bytes);
    }

private:
    std::vector<std::uint8_t> _bytes;
    std::size_t _used = 0;
    std::size_t _limit;
};

std::string too_large(std::string_view kind, std::size_t limit) {
    return fmt::format("the {} data decompresses to more than {} MB (half of this machine's memory): "
                       "decompress it to a file first",
                       kind, limit >> 20);
}

} // namespace

CaptureInput::~CaptureInput() {
    if (_map != nullptr && _map != MAP_FAILED) {
        ::munmap(_map, _map_size);
    }
    if (_fd > STDERR_FILENO) {
        ::close(_fd);
    }
}

std::string CaptureInput::open(const std::string& path, Failure& failure) {
    failure = Failure::kNone;
    std::string why;
    if (path == "-") {
        why = read_whole(STDIN_FILENO, failure);
    } else {
        _fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (_fd < 0) {
            failure = Failure::kNoInput;
            return std::strerror(errno);
        }
        struct stat st {};
        if (::fstat(_fd, &st) != 0) {
            failure = Failure::kNoInput;
            return std::strerror(errno);
        }
        if (S_ISDIR(st.st_mode)) {
            failure = Failure::kNoInput;
            return "is a directory, not a capture file";
        }
        if (S_ISREG(st.st_mode)) {
            _map_size = static_cast<std::size_t>(st.st_size);
            if (_map_size == 0) {
                failure = Failure::kData;
                return "empty file";
            }
            _map = ::mmap(nullptr, _map_size, PROT_READ, MAP_PRIVATE, _fd, 0);
            if (_map == MAP_FAILED) {
                _map = nullptr;
                failure = Failure::kNoInput;
                return fmt::format("cannot map the file: {}", std::strerror(errno));
            }
            ::madvise(_map, _map_size, MADV_SEQUENTIAL);
        } else {
            why = read_whole(_fd, failure); // a pipe, a FIFO, a character device
        }
    }
    if (!why.empty()) {
        return why;
    }
    const parsers::Bytes raw = bytes();
    if (raw.empty()) {
        failure = Failure::kData;
        return "empty input";
    }
    if (is_gzip(raw) || is_zstd(raw)) {
        return decompress(raw, failure);
    }
    return {};
}

std::string CaptureInput::read_whole(int fd, Failure& failure) {
    const std::size_t limit = decompressed_limit(machine_memory());
    Output out(limit);
    for (;;) {
        bool out_of_memory = false;
        if (!out.reserve_more(std::size_t{1} << 20, out_of_memory)) {
            failure = out_of_memory ? Failure::kResources : Failure::kData;
            return out_of_memory ? "out of memory reading the input"
                                 : fmt::format("the input is larger than {} MB (half of this machine's memory)",
                                               limit >> 20);
        }
        const ssize_t n = ::read(fd, out.tail(), std::min(out.room(), kChunk));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            failure = Failure::kNoInput;
            return fmt::format("cannot read: {}", std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        out.advance(static_cast<std::size_t>(n));
    }
    _memory = out.take();
    _in_memory = true;
    return {};
}

std::string CaptureInput::decompress(parsers::Bytes in, Failure& failure) {
    const std::size_t limit = decompressed_limit(machine_memory());
    Output out(limit);
    bool out_of_memory = false;
    const auto grow = [&](std::string_view kind) -> std::string {
        if (out.reserve_more(std::size_t{1} << 20, out_of_memory)) {
            return {};
        }
        failure = out_of_memory ? Failure::kResources : Failure::kData;
        return out_of_memory ? fmt::format("out of memory decompressing the {} data", kind) : too_large(kind, limit);
    };
    if (is_gzip(in)) {
        _compression = "gzip";
        z_stream zs{};
        // 15 + 32: a 32 KB window, gzip or zlib header detected (zlib manual, inflateInit2).
        if (inflateInit2(&zs, 15 + 32) != Z_OK) {
            failure = Failure::kResources;
            return "cannot start the gzip decoder";
        }
        std::size_t in_pos = 0;
        std::string why;
        for (;;) {
            if (zs.avail_in == 0 && in_pos < in.size()) {
                const std::size_t n = std::min(in.size() - in_pos, kChunk);
                zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
                zs.avail_in = static_cast<uInt>(n);
                in_pos += n;
            }
            if (why = grow("gzip"); !why.empty()) {
                break;
            }
            const std::size_t room = std::min(out.room(), kChunk);
            zs.next_out = out.tail();
            zs.avail_out = static_cast<uInt>(room);
            const int rc = inflate(&zs, Z_NO_FLUSH);
            out.advance(room - zs.avail_out);
            if (rc == Z_STREAM_END) {
                if (zs.avail_in == 0 && in_pos == in.size()) {
                    break; // the last member
                }
                inflateReset(&zs); // RFC 1952 section 2.2: a file may hold several members
                continue;
            }
            if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos == in.size()) {
                failure = Failure::kData;
                why = "the gzip data ends early (a truncated file)";
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                failure = Failure::kData;
                why = fmt::format("corrupt gzip data near compressed byte {}: {}", in_pos - zs.avail_in,
                                  zs.msg != nullptr ? zs.msg : "inflate failed");
                break;
            }
        }
        inflateEnd(&zs);
        if (!why.empty()) {
            return why;
        }
    } else {
        _compression = "zstd";
        ZSTD_DStream* ds = ZSTD_createDStream();
        if (ds == nullptr) {
            failure = Failure::kResources;
            return "cannot start the zstd decoder";
        }
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        std::size_t pending = 1; // ZSTD_decompressStream's hint: 0 once a frame is complete
        std::string why;
        // RFC 8878 section 3.1: frames follow each other; the loop ends when the input is used up
        // and the last frame is complete, or when a call makes no progress (a truncated frame).
        while (input.pos < input.size || pending != 0) {
            if (why = grow("zstd"); !why.empty()) {
                break;
            }
            ZSTD_outBuffer output{out.tail(), out.room(), 0};
            const std::size_t before_in = input.pos;
            pending = ZSTD_decompressStream(ds, &output, &input);
            if (ZSTD_isError(pending) != 0) {
                failure = Failure::kData;
                why = fmt::format("corrupt zstd data near compressed byte {}: {}", input.pos,
                                  ZSTD_getErrorName(pending));
                break;
            }
            out.advance(output.pos);
            if (output.pos == 0 && input.pos == before_in && pending != 0) {
                failure = Failure::kData;
                why = "the zstd data ends early (a truncated file)";
                break;
            }
        }
        ZSTD_freeDStream(ds);
        if (!why.empty()) {
            return why;
        }
    }
    if (out.used() == 0) {
        failure = Failure::kData;
        return fmt::format("the {} data holds nothing", _compression);
    }
    _memory = out.take();
    _in_memory = true;
    if (_map != nullptr) {
        ::munmap(_map, _map_size); // the compressed bytes are not needed any more
        _map = nullptr;
    }
    return {};
}

parsers::Bytes CaptureInput::bytes() const noexcept {
    if (_in_memory) {
        return {_memory.data(), _memory.size()};
    }
    return {static_cast<const std::uint8_t*>(_map), _map_size};
}

void CaptureInput::populate() const noexcept {
    // Maps the whole file in (page tables, not copies) ahead of the reader: one pass of the kernel
    // instead of a page fault every few records. Kernels before 5.14 refuse MADV_POPULATE_READ.
    if (!_in_memory && _map != nullptr) {
        ::madvise(_map, _map_size, MADV_POPULATE_READ);
    }
}

} // namespace wt::app
