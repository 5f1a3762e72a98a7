#include "napi_util.h"

namespace hs_napi {

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

Napi::Error status_error(Napi::Env env, const hs::Status& status) {
  return make_error(env, hs::status_code_name(status.code()), status.message());
}

hs::Status out_of_memory(const std::bad_alloc& e) {
  return hs::Status(hs::StatusCode::kOutOfMemory, e.what());
}

void throw_type_error(Napi::Env env, const std::string& message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARGUMENT"));
  throw err;
}

}  // namespace hs_napi
