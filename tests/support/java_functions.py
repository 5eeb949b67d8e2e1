"""The Java runtime's test functions (tests/functions/java-events), built offline in the test run with the host's
javac (openjdk-17-jdk-headless) as a user builds them: a fat jar per Java release that carries its own copy of FC's
com.aliyun.fc.runtime interfaces (compiled from runtimes/java/src, as a jar built with fc-java-core carries
fc-java-core's), a code zip of compiled classes at its top and lib/helper.jar, and a layer's zip holding
java/lib/greeter.jar. The servlet API (for FC 2.0's HttpRequestHandler) is the runtime image's own jar."""
from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parent.parent.parent
SOURCES = REPO / "tests" / "functions" / "java-events"
RUNTIME_INTERFACES = REPO / "runtimes" / "java" / "src"
SERVLET_JAR = "/usr/share/java/servlet-api.jar"
RELEASES = ("8", "11")


@dataclass(frozen=True)
class JavaFunctions:
    fat_jars: dict[str, bytes]  # by javac --release: "8", "11"
    classes_zip: bytes
    layer_zip: bytes


def _sources(folder: Path) -> list[str]:
    return sorted(str(path) for path in folder.rglob("*.java"))


def _javac(release: str, class_path: list[Path], output: Path, sources: list[str]) -> Path:
    output.mkdir(parents=True)
    command = ["javac", "-nowarn", "--release", release, "-encoding", "UTF-8", "-d", str(output)]
    if class_path:
        command += ["-cp", ":".join(str(path) for path in class_path)]
    built = subprocess.run(command + sources, check=False, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return output


def _archive(entries: dict[str, Path]) -> bytes:
    """A zip (a jar is one) of every file under each folder, under its prefix."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for prefix, folder in entries.items():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _file_from_image(client: docker.DockerClient, image: str, path: str, target: Path) -> Path:
    container = client.containers.create(image, command=["true"])
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            assert member is not None, f"{path} in {image} is not a file"
            target.write_bytes(member.read())
    finally:
        container.remove(force=True)
    return target


def build_java_functions(work: Path, client: docker.DockerClient, image: str) -> JavaFunctions:
    servlet = _file_from_image(client, image, SERVLET_JAR, work / "servlet-api.jar")
    greeter = work / "greeter.jar"
    greeter.write_bytes(_archive({"": _javac("8", [], work / "greeter", _sources(SOURCES / "layer-src"))}))
    fat_jars = {}
    for release in RELEASES:
        classes = _javac(release, [servlet, greeter], work / f"classes-{release}",
                         _sources(RUNTIME_INTERFACES) + _sources(SOURCES / "src"))
        fat_jars[release] = _archive({"": classes})
    helper = work / "helper.jar"
    helper.write_bytes(_archive({"": _javac("8", [], work / "helper", _sources(SOURCES / "zip-lib-src"))}))
    # The zip's own classes only: FC's interfaces come from the runtime (a zip may carry them in lib/ too).
    zip_classes = _javac("8", [helper, work / "classes-8"], work / "zip-classes", _sources(SOURCES / "zip-src"))
    lib = work / "zip-lib"
    lib.mkdir()
    (lib / "helper.jar").write_bytes(helper.read_bytes())
    layer = work / "layer-lib"
    layer.mkdir()
    (layer / "greeter.jar").write_bytes(greeter.read_bytes())
    return JavaFunctions(fat_jars=fat_jars, classes_zip=_archive({"": zip_classes, "lib/": lib}),
                         layer_zip=_archive({"java/lib/": layer}))
