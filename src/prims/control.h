// Control-flow primitives (scan, while, cond): the input layouts of their
// tuple nodes, shared by the type rules, the VJP rules (control.cpp) and the
// executors (src/backend/control.cpp).
//
// Every sub-graph is self-contained: it has params only (no captures), and
// the values it uses from outside are explicit loop-invariant inputs
// ("consts") of the node.
//
//   scan:  in  = [init carry (nc)..., xs (nx)..., consts (nk)...]
//          sub = {body}: [carry..., x slices..., consts...] -> [carry'..., y (ny)...]
//          attrs.ints = {length, nc, nx, reverse}
//          outs = [final carry..., ys...]; xs are sliced along their last
//          axis, ys stacked along a new last axis.
//   while: in  = [init carry (nc)..., cond consts (ncc)..., body consts (ncb)...]
//          sub = {cond: [carry..., cond consts...] -> bool scalar,
//                 body: [carry..., body consts...] -> [carry'...]}
//          attrs.ints = {nc, ncc, ncb};  outs = final carry
//   cond:  in  = [pred (bool scalar), operands (no)..., true consts (nt)..., false consts (nf)...]
//          sub = {true: [operands..., true consts...] -> outs,
//                 false: [operands..., false consts...] -> outs}
//          attrs.ints = {no, nt, nf}
#pragma once
#include "../ir/ir.h"

namespace rj {

struct ScanLayout {
  int64_t length;
  int nc, nx, nk, ny;
  bool reverse;
  explicit ScanLayout(const Node& n)
      : length(n.attrs.ints.at(0)), nc((int)n.attrs.ints.at(1)), nx((int)n.attrs.ints.at(2)),
        nk((int)n.in.size() - nc - nx), ny((int)n.outs.size() - nc), reverse(n.attrs.ints.at(3) != 0) {}
};

struct WhileLayout {
  int nc, ncc, ncb;
  explicit WhileLayout(const Node& n)
      : nc((int)n.attrs.ints.at(0)), ncc((int)n.attrs.ints.at(1)), ncb((int)n.attrs.ints.at(2)) {}
};

struct CondLayout {
  int no, nt, nf;
  explicit CondLayout(const Node& n)
      : no((int)n.attrs.ints.at(0)), nt((int)n.attrs.ints.at(1)), nf((int)n.attrs.ints.at(2)) {}
};

// The type of one slice of a scanned input / of the stack of per-iteration outputs.
Type slice_type(const Type& stacked);
Type stacked_type(const Type& slice, int64_t length);

}  // namespace rj
