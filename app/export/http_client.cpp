#include "app/export/http_client.hpp"

#include <fmt/format.h>
#include <fstream>

namespace wt::app::http_client {

std::unique_ptr<httplib::Client> client_for(const std::string& base_url, std::chrono::milliseconds timeout,
                                            const std::string& user, const std::string& password) {
    auto client = std::make_unique<httplib::Client>(base_url);
    const auto limit = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
    client->set_connection_timeout(limit);
    client->set_read_timeout(limit);
    client->set_write_timeout(limit);
    if (!password.empty() || (!user.empty() && user != "default")) {
        client->set_basic_auth(user, password);
    }
    return client;
}

std::string failure_text(const httplib::Result& res) {
    if (!res) {
        return httplib::to_string(res.error());
    }
    std::string first_line = res->body.substr(0, res->body.find('\n'));
    if (first_line.size() > 300) {
        first_line.resize(300);
    }
    return fmt::format("HTTP {}: {}", res->status, first_line);
}

bool read_password_file(const std::string& path, std::string& password, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = fmt::format("{}: cannot read the password file", path);
        return false;
    }
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') {
        password.pop_back();
    }
    return true;
}

} // namespace wt::app::http_client
