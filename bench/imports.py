#!/usr/bin/env python3
"""The import graph of src/: which module names which, from `crate::` paths in code (comments
and doc comments skipped; `super::` paths resolved). Prints the edges between top-level
modules, then, with --files, between files, and any cycles among top-level modules and among
files (`mod.rs` stands for its directory). Usage: python3 bench/imports.py [SRC_DIR] [--files]
"""
import os
import re
import sys

args = [a for a in sys.argv[1:] if not a.startswith('--')]
src = args[0] if args else os.path.join(os.path.dirname(__file__), '..', 'src')
show_files = '--files' in sys.argv

def module_of(path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib', 'main'):
        rel = rel[:-1]
    return rel

files = {}
for root, _, names in os.walk(src):
    for n in names:
        if n.endswith('.rs'):
            p = os.path.join(root, n)
            files[tuple(module_of(p))] = p
modules = set(files)

def resolve(parts):
    """The longest known module prefix of a path."""
    for i in range(len(parts), 0, -1):
        if tuple(parts[:i]) in modules:
            return tuple(parts[:i])
    return None

edges = set()
path_re = re.compile(r'\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)')
group_re = re.compile(r'\buse\s+(crate|super(?:::super)*)::\{([^;]*)\}', re.S)
for mod, p in files.items():
    text = open(p, encoding='utf-8').read()
    code = '\n'.join(l.split('//')[0] for l in text.splitlines())
    refs = []
    for m in path_re.finditer(code):
        refs.append((m.group(1), [s for s in m.group(2).split('::') if s]))
    for m in group_re.finditer(code):
        head = m.group(1).split('::')
        for item in re.split(r'[,\s]+', re.sub(r'\{[^}]*\}', '', m.group(2))):
            item = item.strip()
            if item and item != 'self':
                refs.append((head[0], head[1:] + item.split('::')))
    for root, parts in refs:
        if root == 'crate':
            target = parts
        else:
            # `super` is the parent of the module the file defines.
            ups = 1 + sum(1 for _ in __import__('itertools').takewhile(lambda x: x == 'super', parts))
            target = list(mod[:-ups] if ups <= len(mod) else ()) + [x for x in parts if x != 'super']
        t = resolve(target)
        if t is not None and t != mod and t != ():
            edges.add((mod, t))

def top(m):
    return m[0] if m else 'lib'

def cycles(nodes, es):
    graph = {n: set() for n in nodes}
    for a, b in es:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out

top_edges = sorted({(top(a), top(b)) for a, b in edges if top(a) != top(b)})
print('## top-level modules: who imports whom')
for a in sorted({a for a, _ in top_edges}):
    print(f'{a} -> ' + ', '.join(b for x, b in top_edges if x == a))
print('\n## cycles among top-level modules')
for c in cycles({top(m) for m in modules}, top_edges) or [['none']]:
    print(' <-> '.join(c))
name = lambda m: '::'.join(m) or 'lib'
if show_files:
    print('\n## file edges')
    for a, b in sorted(edges):
        print(f'{name(a)} -> {name(b)}')
print('\n## cycles among files (ancestor/child edges of a mod.rs excluded)')
file_edges = {(a, b) for a, b in edges if not (a == b[:len(a)] or b == a[:len(b)])}
found = cycles(modules, file_edges)
for c in found:
    print(' <-> '.join(name(m) for m in c))
if not found:
    print('none')
