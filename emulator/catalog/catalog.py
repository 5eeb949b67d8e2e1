"""The functions the emulator knows, found by FC 3.0 name or by FC 2.0 service and function name."""
from __future__ import annotations

from emulator.catalog.loader import FunctionDefinition


class Catalog:
    def __init__(self, definitions: dict[str, FunctionDefinition], default_service: str) -> None:
        self._definitions = definitions
        self._default_service = default_service
        # FC 2.0 services created through the API (they may hold no function yet).
        self._services: set[str] = set()

    def replace(self, definitions: dict[str, FunctionDefinition], services: set[str] | None = None) -> list[str]:
        """Takes a freshly loaded set of definitions, keeping the current object of every function whose
        manifest and code did not change (so its warm instances stay); returns the names that changed."""
        merged, changed = {}, []
        for name, definition in definitions.items():
            current = self._definitions.get(name)
            if current is not None and current.manifest == definition.manifest and (
                current.code_fingerprint == definition.code_fingerprint and current.identity == definition.identity
            ):
                merged[name] = current
            else:
                merged[name] = definition
                changed.append(name)
        changed += [name for name in self._definitions if name not in definitions]
        self._definitions = merged
        if services is not None:
            self._services = services
        return sorted(changed)

    def get(self, name: str) -> FunctionDefinition | None:
        return self._definitions.get(name)

    def names(self) -> list[str]:
        return sorted(self._definitions)

    def all(self) -> list[FunctionDefinition]:
        return [self._definitions[name] for name in self.names()]

    def has_service(self, service: str) -> bool:
        if service == self._default_service or service in self._services:
            return True
        prefix = service + "$"
        return any(name.startswith(prefix) for name in self._definitions)

    def services(self) -> list[str]:
        from_names = {name.partition("$")[0] for name in self._definitions if "$" in name}
        return sorted({self._default_service, *self._services, *from_names})

    def name_in_service(self, service: str, function: str) -> str:
        """The FC 3.0 name of a 2.0 function: plain in the default service, `service$function` elsewhere."""
        return function if service == self._default_service else f"{service}${function}"

    def get_in_service(self, service: str, function: str) -> FunctionDefinition | None:
        """FC 3.0 shows a 2.0 function as `service$function`; the default service holds the plain names."""
        found = self._definitions.get(f"{service}${function}")
        if found is None and service == self._default_service:
            found = self._definitions.get(function)
        return found
