// Eager evaluation services (see eager.h).
#include "eager.h"

#include "../transforms/passes.h"

namespace rj {

std::vector<BufferPtr> eval_nodes(const Graph& g, const std::vector<int>& ids) {
  auto gp = std::make_shared<Graph>();
  gp->nodes = g.nodes;
  gp->outputs = ids;
  return compile_interp(dce(*gp))->run({});
}

BufferPtr convert_buffer(const BufferPtr& x, DType d) {
  if (x->dtype == d) return x;
  Graph tmp;
  Builder b(tmp);
  return tmp.nodes[b.convert(b.constant(x), d)].value;
}

}  // namespace rj
