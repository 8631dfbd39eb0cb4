"""What the names of a module are bound to by its imports: `r` → `re`, `c` → `re.compile`.

Detectors ask "is this call `re.compile`?" and get the right answer for `import re as r`,
`from re import compile as c` and `import os.path`; a name that the module also assigns or
defines is not trusted to be the import (`re = Regex()` shadows the module).
"""

from __future__ import annotations

from tree_sitter import Node, Query, QueryCursor, Tree

from megawatt.analyzers.parsing import PYTHON

IMPORTS_SOURCE = """
    (import_statement) @import
    (import_from_statement) @from
    (module (expression_statement (assignment left: (identifier) @assigned)))
    (module (function_definition name: (identifier) @assigned))
    (module (class_definition name: (identifier) @assigned))
    (module (decorated_definition definition: (_ name: (identifier) @assigned)))
    """
_QUERY = Query(PYTHON, IMPORTS_SOURCE)
CAPTURES = ("import", "from", "assigned")


def _in_function(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_definition", "lambda"):
            return True
        parent = parent.parent
    return False


def _text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


class ImportTable:
    def __init__(self, tree: Tree, captures: dict[str, list[Node]] | None = None) -> None:
        """From the tree, or from the `IMPORTS_SOURCE` captures of a query already run."""
        self.bindings: dict[str, str] = {}
        # imports made by module-level code only (not inside a function): what a fix can rely on
        self.top_bindings: dict[str, str] = {}
        self.import_nodes: list[Node] = []
        if captures is None:
            captures = QueryCursor(_QUERY).captures(tree.root_node)
        assigned = {_text(n) for n in captures.get("assigned", [])}
        # in the order the module runs them: a later import of a name wins
        found = [(n, "import") for n in captures.get("import", [])]
        found += [(n, "from") for n in captures.get("from", [])]
        found.sort(key=lambda item: item[0].start_byte)
        for node, name in found:
            self.import_nodes.append(node)
            before = dict(self.bindings)
            self._import(node) if name == "import" else self._from(node)
            if not _in_function(node):
                for k, v in self.bindings.items():
                    if before.get(k) != v:
                        self.top_bindings[k] = v
        self.shadowed = {n for n in assigned if n in self.bindings}
        for n in self.shadowed:
            del self.bindings[n]
        self.module_names = assigned | set(self.bindings)
        self.import_nodes.sort(key=lambda n: n.start_byte)

    def _import(self, node: Node) -> None:
        for child in node.named_children:
            if child.type == "dotted_name":
                full = _text(child)
                # `import os.path` binds `os`, through which `os.path` is reached
                head = full.split(".", 1)[0]
                self.bindings.setdefault(head, head)
            elif child.type == "aliased_import":
                self.bindings[_text(child.child_by_field_name("alias"))] = _text(
                    child.child_by_field_name("name")
                )

    def _from(self, node: Node) -> None:
        module_node = node.child_by_field_name("module_name")
        module = _text(module_node)
        if module.startswith("."):
            return  # relative imports are the project's own code, never a stdlib module
        for child in node.children_by_field_name("name"):
            if child.type == "dotted_name":
                self.bindings[_text(child)] = f"{module}.{_text(child)}"
            elif child.type == "aliased_import":
                self.bindings[_text(child.child_by_field_name("alias"))] = (
                    f"{module}.{_text(child.child_by_field_name('name'))}"
                )

    def qualified(self, node: Node | None) -> str | None:
        """`re.compile` for the expression `r.compile` after `import re as r`; None if unknown."""
        if node is None:
            return None
        parts: list[str] = []
        while node.type == "attribute":
            parts.append(_text(node.child_by_field_name("attribute")))
            obj = node.child_by_field_name("object")
            if obj is None:
                return None
            node = obj
        if node.type != "identifier":
            return None
        target = self.bindings.get(_text(node))
        if target is None:
            return None
        return ".".join([target, *reversed(parts)])
