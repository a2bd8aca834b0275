#include "pipeline/classify/regex.hpp"

#include <hs/hs.h>

namespace wt::pipeline {

unsigned service_regex_flags() noexcept { return HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH; }

std::string check_service_regex(const std::string& expression) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile(expression.c_str(), service_regex_flags(), HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
        std::string msg = (err != nullptr && err->message != nullptr) ? err->message : "unknown Hyperscan error";
        hs_free_compile_error(err);
        return msg;
    }
    hs_free_database(db);
    return {};
}

} // namespace wt::pipeline
