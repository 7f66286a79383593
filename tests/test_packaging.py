"""The flat layout installs as it should.

The folders metajit/, tracer/, interp/, backend/ and examples/ install as
metajit, metajit.tracer, ... (setuptools ``package-dir``).  The trap: inside a
clone, the local metajit/ folder shadows the installed package, and without care
``metajit.tracer`` is then not found.  The install tests install a copy of the clone
into a fresh virtual environment (offline: no build isolation, no dependencies) in
both modes and run the command, the imports and a test file from the copy's folder
and from elsewhere.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def package_folders():
    """Every folder under the mapped roots that is a package (has __init__.py)."""
    roots = ["metajit", "tracer", "interp", "backend", "examples"]
    found = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, root)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            if "__init__.py" in filenames:
                found.add(os.path.relpath(dirpath, ROOT).replace(os.sep, "/"))
    return found


def test_every_package_folder_is_listed():
    setuptools_cfg = pyproject()["tool"]["setuptools"]
    package_dir = setuptools_cfg["package-dir"]
    packages = setuptools_cfg["packages"]
    for name in packages:
        assert name in package_dir, f"{name} is in packages but has no package-dir entry"
    listed = {package_dir[name] for name in packages}
    folders = package_folders()
    for folder in ("metajit", "tracer", "interp", "backend", "examples", "examples/bf"):
        assert folder in folders, folder
    missing = folders - listed
    assert not missing, f"package folders not installed (add them to pyproject.toml): {sorted(missing)}"
    for name in packages:
        assert os.path.isfile(os.path.join(ROOT, package_dir[name], "__init__.py")), name


def test_languages_entry_point_names_an_installed_package():
    project = pyproject()["project"]
    packages = set(pyproject()["tool"]["setuptools"]["packages"])
    for name, value in project["entry-points"]["metajit.languages"].items():
        module = value.split(":")[0]
        assert module in packages, f"language {name}: {module} is not an installed package"


# -- installing into a fresh environment (5-10 s each) -----------------------------------

def _ignore_for_copy(directory, names):
    skip = {".git", ".venv", "__pycache__", "build", "dist", ".pytest_cache",
            ".hypothesis", "results"}
    return [n for n in names if n in skip or n.endswith(".egg-info")]


def _parent_site_view(tmp_path):
    """A folder of symlinks to the running environment's packages (pytest, networkx,
    setuptools, ...), without any metajit install of its own, so that the new
    environment can use them offline and sees only the metajit it installs."""
    view = tmp_path / "parent-site"
    view.mkdir()
    dirs = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths()[key]
        if path not in dirs and os.path.isdir(path):
            dirs.append(path)
    for path in dirs:
        for name in os.listdir(path):
            lowered = name.lower()
            if lowered.startswith("metajit") or "editable" in lowered and "metajit" in lowered:
                continue
            target = view / name
            if not target.exists():
                target.symlink_to(os.path.join(path, name))
    return view


def _venv(tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(env_dir)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "_parent_site.pth"), "w") as f:
        f.write(str(_parent_site_view(tmp_path)) + "\n")
    return env_dir, str(python)


def _run(cmd, cwd, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} (in {cwd}) failed with {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}")
    return result


def _can_build_wheels(python):
    """setuptools builds wheels by itself from 70.1; before that it needs ``wheel``."""
    probe = ("import importlib.util, setuptools\n"
             "v = tuple(int(x) for x in setuptools.__version__.split('.')[:2])\n"
             "print(v >= (70, 1) or importlib.util.find_spec('wheel') is not None)")
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    return result.stdout.strip() == "True"


@pytest.mark.parametrize("editable", [True, False], ids=["editable", "regular"])
def test_install_and_run_from_the_clone(tmp_path, editable):
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=_ignore_for_copy, symlinks=True)
    env_dir, python = _venv(tmp_path)
    if not _can_build_wheels(python):
        pytest.skip("setuptools cannot build wheels offline here: install 'setuptools>=70.1' "
                    "(part of the [test] extra)")
    install = [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
               "--no-index", "--quiet", "--disable-pip-version-check"]
    install += ["-e", str(clone)] if editable else [str(clone)]
    _run(install, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (clone, elsewhere):
        out = _run([python, "-m", "metajit", "languages"], cwd).stdout
        assert out.startswith("bf "), out
        _run([python, "-c", "import metajit.interp, metajit.tracer.ir, metajit.backend.base, "
                            "metajit.examples.bf, metajit.cli"], cwd)
        hello = _run([python, "-m", "metajit", "run", "--no-jit",
                      str(clone / "examples" / "bf" / "programs" / "hello.b")], cwd)
        assert hello.stdout == "Hello World!\n"
        # with the JIT: tracing, the optimiser and a backend are installed too
        jitted = _run([python, "-m", "metajit", "run", "--param", "threshold=5",
                       "--stats-json", str(tmp_path / "stats.json"),
                       str(clone / "examples" / "bf" / "programs" / "hello.b")], cwd)
        assert jitted.stdout == "Hello World!\n"
        with open(tmp_path / "stats.json") as f:
            assert json.load(f)["loops"] >= 1
    # the console script
    out = _run([str(env_dir / "bin" / "metajit"), "languages"], elsewhere).stdout
    assert out.startswith("bf ")
    # outside the clone, a regular install runs its own copy
    where = _run([python, "-c", "import metajit, metajit.tracer; "
                                "print(metajit.__file__); print(metajit.tracer.__file__)"],
                 elsewhere).stdout.split()
    inside = str(clone) if editable else str(env_dir)
    assert all(path.startswith(inside) for path in where), where
    # the test suite runs from the clone (a quick file of it)
    _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
          "tests/test_cli.py", "-k", "help or languages or hello"], clone)
