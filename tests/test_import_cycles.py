"""No import cycles between the modules of supportgroup/ nor between its feature packages (tools/import_cycles.py)."""

from pathlib import Path

from tools.import_cycles import build_graphs, find_cycles

PACKAGE = Path(__file__).resolve().parent.parent / "supportgroup"


def test_supportgroup_has_no_import_cycles():
    report = find_cycles(PACKAGE)
    assert not report, "import cycles (python -m tools.import_cycles):\n" + "\n".join(report)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "app"


def test_the_check_sees_lazy_and_relative_imports_but_not_type_checking_ones(tmp_path):
    package = write(
        tmp_path,
        {
            "app/__init__.py": "from .a import one\nfrom .b import two\n",  # the root: left out
            "app/a/__init__.py": "",
            "app/a/one.py": "def f():\n    from ..b.two import g\n",  # lazy, relative
            "app/b/__init__.py": "",
            "app/b/two.py": "import app.a.one\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from ..c import x\n",
            "app/c.py": "from .b import two\n",
        },
    )

    modules, packages = build_graphs(package)

    assert set(modules.edges["app.a.one"]) == {"app.b.two"}
    assert set(modules.edges["app.b.two"]) == {"app.a.one"}  # not app.c: under TYPE_CHECKING
    assert set(modules.edges["app.c"]) == {"app.b.two"}
    assert "app" not in modules.edges
    assert set(packages.edges["app.a"]) == {"app.b"}
    report = find_cycles(package)
    assert "modules: 2 in one cycle: app.a.one, app.b.two" in report
    assert "packages: 2 in one cycle: app.a, app.b" in report
    assert "      app/a/one.py:2: from ..b.two import g" in report


def test_the_check_is_quiet_without_cycles(tmp_path):
    package = write(tmp_path, {"app/__init__.py": "from . import a\n", "app/a.py": "from . import b\n", "app/b.py": ""})

    assert find_cycles(package) == []
