#include "app/control/commands.hpp"

#include <fmt/format.h>

#include <optional>

namespace wt::app {

using nlohmann::json;

namespace {

// nlohmann's replace handler: a name with invalid UTF-8 is answered with U+FFFD, never an exception.
std::string dump_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

const ControlCommand* find_command(std::string_view name) {
    for (const ControlCommand& c : kControlCommands) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

// An optional non-negative integer argument; false with a message when it is not one.
bool size_arg(const json& args, const char* name, std::size_t& value, std::string& error) {
    if (!args.contains(name)) {
        return true;
    }
    const json& v = args[name];
    if (!v.is_number_integer() || v.get<long long>() < 0) {
        error = fmt::format("argument '{}' must be a non-negative integer", name);
        return false;
    }
    value = v.get<std::size_t>();
    return true;
}

bool string_arg(const json& args, const char* name, std::string& value, std::string& error) {
    if (!args.contains(name)) {
        return true;
    }
    if (!args[name].is_string()) {
        error = fmt::format("argument '{}' must be a string", name);
        return false;
    }
    value = args[name].get<std::string>();
    return true;
}

// The request line as a ControlRequest, or the error answer.
std::optional<ControlRequest> parse_request(std::string_view line, std::string& error_answer) {
    json request;
    try {
        request = json::parse(line);
    } catch (const json::parse_error& e) {
        error_answer = control_error(fmt::format("request is not JSON (byte {}): send one object per line, e.g. "
                                                 "{{\"command\":\"help\"}}",
                                                 e.byte));
        return std::nullopt;
    }
    if (!request.is_object() || !request.contains("command") || !request["command"].is_string()) {
        error_answer = control_error("request must be an object with a string \"command\"");
        return std::nullopt;
    }
    const std::string name = request["command"].get<std::string>();
    const json args = request.contains("args") ? request["args"] : json::object();
    if (!args.is_object()) {
        error_answer = control_error("\"args\" must be an object");
        return std::nullopt;
    }
    ControlRequest out;
    if (request.contains("format")) {
        const json& format = request["format"];
        if (!format.is_string() || (format.get<std::string>() != "json" && format.get<std::string>() != "table")) {
            error_answer = control_error("\"format\" is \"json\" or \"table\"");
            return std::nullopt;
        }
        out.table = format.get<std::string>() == "table";
    }
    out.command = find_command(name);
    if (out.command == nullptr) {
        error_answer = control_error(fmt::format("unknown command \"{}\" (try help)", name.substr(0, 64)));
        return std::nullopt;
    }
    const unsigned takes = out.command->args;
    std::string error;
    if (((takes & kArgTop) != 0 && !size_arg(args, "top", out.top, error)) ||
        ((takes & kArgService) != 0 && !string_arg(args, "service", out.service, error)) ||
        ((takes & kArgLast) != 0 && !size_arg(args, "last", out.last_s, error)) ||
        ((takes & kArgLabel) != 0 && !string_arg(args, "label", out.label, error)) ||
        ((takes & kArgDevice) != 0 && !string_arg(args, "device", out.device, error))) {
        error_answer = control_error(error);
        return std::nullopt;
    }
    return out;
}

std::string help_answer(const ControlRequest& request) {
    if (request.table) {
        std::string text = "commands (wiretally ctl COMMAND --help):\n";
        for (const ControlCommand& c : kControlCommands) {
            text += fmt::format("  {:<10}{:<32}{}\n", c.name, c.usage, c.help);
        }
        return control_text(std::move(text));
    }
    json list = json::array();
    for (const ControlCommand& c : kControlCommands) {
        list.push_back({{"command", c.name}, {"args", c.usage}, {"help", c.help}});
    }
    return control_result(json{{"commands", list}});
}

std::string dispatch(const ControlRequest& request, ControlResponder& responder) {
    const std::string_view name = request.command->name;
    if (name == "stats") {
        return responder.stats(request);
    }
    if (name == "services") {
        return responder.services(request);
    }
    if (name == "domains") {
        return responder.domains(request);
    }
    if (name == "servers") {
        return responder.servers(request);
    }
    if (name == "dns") {
        return responder.dns(request);
    }
    if (name == "clients") {
        return responder.clients(request);
    }
    if (name == "flows") {
        return responder.flows(request);
    }
    if (name == "timeline") {
        return responder.timeline(request);
    }
    if (name == "mark") {
        return responder.mark(request);
    }
    if (name == "actions") {
        return responder.actions(request);
    }
    if (name == "devices") {
        return responder.devices(request);
    }
    if (name == "report") {
        return responder.report(request);
    }
    if (name == "metrics") {
        return responder.metrics(request);
    }
    if (name == "reload") {
        return responder.reload(request);
    }
    if (name == "snapshot") {
        return responder.snapshot(request);
    }
    if (name == "version") {
        return responder.version(request);
    }
    if (name == "config") {
        return responder.config(request);
    }
    return help_answer(request);
}

} // namespace

std::string control_result(const json& result) { return dump_line(json{{"ok", true}, {"result", result}}); }

std::string control_result_json_text(std::string_view json_text) {
    return fmt::format("{{\"ok\":true,\"result\":{}}}", json_text);
}

std::string control_text(std::string text) { return dump_line(json{{"ok", true}, {"text", std::move(text)}}); }

std::string control_error(std::string_view message) { return dump_line(json{{"ok", false}, {"error", message}}); }

std::string answer_control_request(std::string_view line, ControlResponder& responder) {
    try {
        std::string error_answer;
        const std::optional<ControlRequest> request = parse_request(line, error_answer);
        return request ? dispatch(*request, responder) : error_answer;
    } catch (const json::exception& e) {
        return control_error(fmt::format("bad request: {}", e.what()));
    }
}

} // namespace wt::app
