#!/usr/bin/env node
// Loads a gc-core heap snapshot with memlab and checks it against what
// gc-core says it wrote (tests/tests/test_heap_snapshot_memlab.rs):
//
//   node check.js <file.heapsnapshot> '<expected JSON>'
//
// expected = {
//   "nodes": N, "edges": M,        // counted by the Rust test from the heap
//   "leaked_tag": "leak 2",        // the text of a string node held by the leaked object
//   "path": "(GC roots) --[0]--> Module --_cache[2]--> Job --payload--> Payload"
// }
//
// The retainer path is read twice: with memlab's own shortest path from the
// root (`pathEdge`, which getFullHeapFromFile computes) and by walking
// `referrers` breadth first from the leaked object up to the root. Prints
// what it found; exits non-zero on the first mismatch.
'use strict';

const {getFullHeapFromFile} = require('@memlab/heap-analysis');

function fail(message) {
  console.error(`check.js: FAIL: ${message}`);
  process.exit(1);
}

function edgeText(edge) {
  return edge.type === 'element' ? `[${edge.name_or_index}]` : `${edge.name_or_index}`;
}

function render(nodes, edges) {
  let out = nodes[0].name;
  for (let i = 0; i < edges.length; i++) {
    out += ` --${edgeText(edges[i])}--> ${nodes[i + 1].name}`;
  }
  return out;
}

// memlab's shortest path from the root: follow `pathEdge` up.
function pathByPathEdge(node) {
  const nodes = [node];
  const edges = [];
  let at = node;
  for (let guard = 0; at.pathEdge && guard < 1000; guard++) {
    edges.unshift(at.pathEdge);
    at = at.pathEdge.fromNode;
    nodes.unshift(at);
  }
  return {nodes, edges};
}

// Breadth first over `referrers` (not weak ones) until node 0, the root.
function pathByReferrers(node) {
  const parent = new Map([[node.nodeIndex, null]]);
  const queue = [node];
  while (queue.length > 0) {
    const at = queue.shift();
    if (at.nodeIndex === 0) {
      const nodes = [at];
      const edges = [];
      let step = parent.get(at.nodeIndex);
      while (step) {
        edges.push(step.edge);
        nodes.push(step.to);
        step = parent.get(step.to.nodeIndex);
      }
      return {nodes, edges};
    }
    for (const edge of at.referrers) {
      const from = edge.fromNode;
      if (edge.type === 'weak' || parent.has(from.nodeIndex)) {
        continue;
      }
      parent.set(from.nodeIndex, {edge, to: at});
      queue.push(from);
    }
  }
  return null;
}

async function main() {
  const [file, expectedText] = process.argv.slice(2);
  if (!file || !expectedText) {
    fail('usage: node check.js <file.heapsnapshot> <expected JSON>');
  }
  const expected = JSON.parse(expectedText);
  const heap = await getFullHeapFromFile(file);
  console.log(`memlab loaded ${file}: ${heap.nodes.length} nodes, ${heap.edges.length} edges`);
  if (heap.nodes.length !== expected.nodes) {
    fail(`node count ${heap.nodes.length}, gc-core says ${expected.nodes}`);
  }
  if (heap.edges.length !== expected.edges) {
    fail(`edge count ${heap.edges.length}, gc-core says ${expected.edges}`);
  }
  const root = heap.nodes.get(0);
  if (root.name !== '(GC roots)' || root.type !== 'synthetic') {
    fail(`node 0 is ${root.type} ${root.name}`);
  }

  let tag = null;
  heap.nodes.forEach(node => {
    if (node.type === 'string' && node.name === expected.leaked_tag) {
      tag = node;
      return false;
    }
  });
  if (!tag) {
    fail(`no string node "${expected.leaked_tag}"`);
  }
  const leaked = tag.referrers.find(edge => edge.name_or_index === 'tag').fromNode;
  console.log(`leaked object: ${leaked.name} @${leaked.id}, ${leaked.self_size} bytes, retained ${leaked.retainedSize}`);

  const shortest = pathByPathEdge(leaked);
  const shortestText = render(shortest.nodes, shortest.edges);
  console.log(`retainer path (memlab pathEdge): ${shortestText}`);
  const walked = pathByReferrers(leaked);
  if (!walked) {
    fail('no path from the leaked object up to the root through referrers');
  }
  const walkedText = render(walked.nodes, walked.edges);
  console.log(`retainer path (referrers walk):  ${walkedText}`);
  for (const [how, text] of [['pathEdge', shortestText], ['referrers', walkedText]]) {
    if (text !== expected.path) {
      fail(`${how} path is\n  ${text}\nexpected\n  ${expected.path}`);
    }
  }
  console.log('check.js: OK');
}

main().catch(error => fail(error.stack || String(error)));
