"""No module of the product imports, even through others, a module that imports it back."""

import grimp


def test_no_import_cycles():
    graph = grimp.build_graph("bot", "handlers", "storage")
    cycles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert cycles == []
