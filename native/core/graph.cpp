#include "hs/graph.h"

namespace hs {

std::string Node::describe() const {
  return str_cat(domain.empty() ? "" : domain + ".", op_type, " node '", name, "'");
}

}  // namespace hs
