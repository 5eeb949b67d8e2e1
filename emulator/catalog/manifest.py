"""A function's manifest, with FC 3.0's `CreateFunctionInput` field names and limits."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emulator.catalog.aliases import ALIAS_NAME_RULE, LATEST, valid_alias_name
from emulator.catalog.provision_configs import (
    MAX_TARGET,
    ScheduledAction,
    StoredProvisionConfig,
    TargetTrackingPolicy,
)
from emulator.catalog.trigger_config import TriggerError, check_trigger, topic_of_source_arn

FUNCTION_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$-]{0,127}$"
# What a process environment can hold: FC's rule for variable names, and no NUL in names or values.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# fcemu's own variables in an instance (its secret, the FC endpoint relay, the debugger's address...): read by the
# agents and the java image's start script, so a function's own variables may not set them.
RESERVED_ENV_PREFIX = "FCEMU_"
PYTHON_RUNTIMES = ("python3", "python3.9", "python3.10", "python3.12")
NODEJS_RUNTIMES = ("nodejs14", "nodejs16", "nodejs18", "nodejs20")
GO_RUNTIMES = ("go1",)
# Both run on the image's OpenJDK 17 (docs/java-runtime.md says what differs from FC's JVMs).
JAVA_RUNTIMES = ("java8", "java11")
CUSTOM_RUNTIMES = ("custom", "custom.debian10", "custom.debian11", "custom.debian12")
# The runtimes whose agent is fcemu's own (an image of runtimes/), against the custom ones, which run their own server.
BUILT_IN_RUNTIMES = (*PYTHON_RUNTIMES, *NODEJS_RUNTIMES, *GO_RUNTIMES, *JAVA_RUNTIMES)
RuntimeFamily = Literal["python", "nodejs", "go", "java", "custom", "custom-container"]
CUSTOM_CONTAINER = "custom-container"
FC3_API_VERSION = "2023-03-30"
FC2_API_VERSION = "2016-08-15"

# Fields FC accepts that mean nothing on one machine: taken so real configs load, otherwise unused.
IGNORED_FC_FIELDS = frozenset(
    {
        "logConfig", "vpcConfig", "nasConfig", "ossMountConfig", "tags", "internetAccess",
        "gpuConfig", "tracingConfig", "code", "codeChecksum", "diskSize", "cpu",
        "sessionAffinity", "sessionAffinityConfig", "enableLongLiving", "idleTimeout",
    }
)

# FC's limit on a role's ARN (a function's, or an FC 2.0 service's).
ROLE_MAX_LENGTH = 300
# FC takes memorySize in steps of this many MB.
MEMORY_STEP_MB = 64
# What a healthCheckConfig is, for the OpenAPI document: fcemu checks it is an object, nothing more.
HEALTH_CHECK = ("FC's HealthCheckConfig (httpGetUrl, initialDelaySeconds, periodSeconds, timeoutSeconds, "
                "failureThreshold, successThreshold): taken, not used by fcemu")


class _FCModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _printable(value: str, what: str) -> str:
    """Text that reaches a container's command line, environment or a request header: a NUL or line break
    there makes Docker refuse to start it (on every invoke) or splits a header."""
    if any(char in value for char in "\x00\r\n"):
        raise ValueError(f"{what} must not contain NUL or line breaks")
    return value


class CustomContainerConfig(_FCModel):
    image: str = Field(min_length=1, examples=["fcemu/runtime-python3:latest"])
    # FC 3.0 names: entrypoint is the program, command its arguments.
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    port: int = Field(9000, ge=1, le=65535)
    healthCheckConfig: dict[str, Any] | None = Field(None, description=HEALTH_CHECK)
    accelerationType: str | None = None
    acrInstanceId: str | None = None

    @model_validator(mode="after")
    def _printable_command(self) -> CustomContainerConfig:
        _printable(self.image, "image")
        for part in (*(self.entrypoint or ()), *(self.command or ())):
            _printable(part, "entrypoint and command")
        return self


class CustomRuntimeConfig(_FCModel):
    command: list[str] = Field(min_length=1, examples=[["python3", "server.py"]])
    args: list[str] | None = None
    port: int = Field(9000, ge=1, le=65535)
    healthCheckConfig: dict[str, Any] | None = Field(None, description=HEALTH_CHECK)

    @model_validator(mode="after")
    def _printable_command(self) -> CustomRuntimeConfig:
        for part in (*self.command, *(self.args or ())):
            _printable(part, "command and args")
        return self


class Destination(_FCModel):
    destination: str = Field(min_length=1)


class DestinationConfig(_FCModel):
    onSuccess: Destination | None = None
    onFailure: Destination | None = None


class AsyncInvokeConfig(_FCModel):
    # Whose config it is (Serverless Devs' fc3 schema has it): LATEST, a version id or an alias.
    qualifier: str = Field("LATEST", min_length=1, max_length=128)
    maxAsyncRetryAttempts: int = Field(3, ge=0, le=8)
    maxAsyncEventAgeInSeconds: int = Field(86400, ge=1, le=604800)
    asyncTask: bool = False
    destinationConfig: DestinationConfig | None = None


class ConcurrencyConfig(_FCModel):
    reservedConcurrency: int = Field(ge=0, le=256)


class ProvisionConfigDeclaration(_FCModel):
    """A provision config a manifest (an fc3 s.yaml's `provisionConfig`) declares: FC's PutProvisionConfigInput
    and, as Serverless Devs reads it, the `qualifier` it is for (LATEST or an alias)."""

    defaultTarget: int | None = Field(None, ge=0, le=MAX_TARGET)
    target: int | None = Field(None, ge=0, le=MAX_TARGET)
    alwaysAllocateCPU: bool = True
    alwaysAllocateGPU: bool = True
    scheduledActions: list[ScheduledAction] = Field(default_factory=list)
    targetTrackingPolicies: list[TargetTrackingPolicy] = Field(default_factory=list)
    qualifier: str = Field(LATEST, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _target_and_qualifier(self) -> ProvisionConfigDeclaration:
        if self.defaultTarget is None and self.target is None:
            raise ValueError("defaultTarget (or the deprecated target) is required")
        if self.qualifier.isascii() and self.qualifier.isdigit():
            raise ValueError(f"qualifier '{self.qualifier}' is a version: a provision config is an alias's or "
                             "LATEST's, as in FC")
        if self.qualifier != LATEST and not valid_alias_name(self.qualifier):
            raise ValueError(f"qualifier '{self.qualifier}' is neither LATEST nor an alias name ({ALIAS_NAME_RULE})")
        return self

    def stored(self, modified_time: str = "") -> StoredProvisionConfig:
        """The config as PutProvisionConfig would have stored it."""
        return StoredProvisionConfig(
            defaultTarget=self.defaultTarget if self.defaultTarget is not None else self.target,
            alwaysAllocateCPU=self.alwaysAllocateCPU, alwaysAllocateGPU=self.alwaysAllocateGPU,
            scheduledActions=self.scheduledActions, targetTrackingPolicies=self.targetTrackingPolicies,
            lastModifiedTime=modified_time,
        )


class LifecycleHook(_FCModel):
    handler: str | None = Field(None, max_length=128, examples=["index.pre_stop"])
    timeout: int = Field(3, ge=1, le=600)
    # FC 3.0's alternative to a handler (a command run in the instance): accepted, not run by fcemu.
    command: list[str] | None = None

    @model_validator(mode="after")
    def _handler_or_command(self) -> LifecycleHook:
        if self.handler and self.command:
            raise ValueError("give a hook either a handler or a command, not both")
        return self


class InstanceLifecycleConfig(_FCModel):
    """FC 3.0 puts the initializer here; FC 2.0 has preFreeze (accepted, never called: fcemu freezes nothing)."""

    initializer: LifecycleHook | None = None
    preStop: LifecycleHook | None = None
    preFreeze: LifecycleHook | None = None


class Trigger(_FCModel):
    triggerName: str = Field(min_length=1)
    triggerType: str = Field(min_length=1)
    triggerConfig: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    qualifier: str = "LATEST"
    invocationRole: str | None = None
    sourceArn: str | None = None


class FunctionManifest(BaseModel):
    """What `functions/<name>/function.yaml` declares."""

    model_config = ConfigDict(extra="allow")

    functionName: str = Field(pattern=FUNCTION_NAME_PATTERN)
    runtime: str = Field(examples=["python3.10", "python3.9", "custom.debian10", CUSTOM_CONTAINER])
    handler: str = Field(min_length=1, max_length=128, examples=["index.handler"])
    description: str = Field("", max_length=256)
    memorySize: int = Field(512, ge=128, le=32768, json_schema_extra={"multipleOf": MEMORY_STEP_MB})
    timeout: int = Field(3, ge=1, le=86400)
    instanceConcurrency: int = Field(1, ge=1, le=200)
    environmentVariables: dict[str, str] = Field(default_factory=dict)
    initializer: str | None = Field(None, max_length=128)
    initializationTimeout: int = Field(3, ge=1, le=600)
    instanceLifecycleConfig: InstanceLifecycleConfig | None = None
    # With a role, the function gets the temporary credentials fcemu's settings hold, as FC gives it the role's.
    role: str | None = Field(None, max_length=ROLE_MAX_LENGTH)
    disableInjectCredentials: Literal["None", "Env", "Request", "All"] | None = None
    customContainerConfig: CustomContainerConfig | None = None
    customRuntimeConfig: CustomRuntimeConfig | None = None
    asyncInvokeConfig: AsyncInvokeConfig | None = None
    concurrencyConfig: ConcurrencyConfig | None = None
    # Applies when no provision config of its qualifier was put through the API (which overrides it).
    provisionConfig: ProvisionConfigDeclaration | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    # Layer version ARNs, first one winning a clash; fcemu reads them from FCEMU_LAYERS_DIR (catalog/layers.py).
    layers: list[str] = Field(default_factory=list, max_length=5)
    # fcemu's field, not FC's: the API generation the function belongs to, which decides what a built-in
    # runtime's HTTP trigger calls (FC 3.0's event, or FC 2.0's web handler). See `api_version`.
    apiVersion: Literal["2023-03-30", "2016-08-15"] | None = None

    @field_validator("memorySize")
    @classmethod
    def _memory_in_steps_of_64(cls, value: int) -> int:
        if value % MEMORY_STEP_MB:
            raise ValueError(f"must be a multiple of {MEMORY_STEP_MB} (MB)")
        return value

    @field_validator("handler", "initializer")
    @classmethod
    def _printable_handler(cls, value: str | None) -> str | None:
        return None if value is None else _printable(value, "the handler")

    @field_validator("environmentVariables")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not ENV_NAME.fullmatch(name):
                raise ValueError(f"'{name[:64]}' is not a variable name (a letter or '_', then letters, digits, '_')")
            if name.upper().startswith(RESERVED_ENV_PREFIX):
                raise ValueError(f"'{name[:64]}' is reserved: fcemu's instances read {RESERVED_ENV_PREFIX}* variables "
                                 "for themselves")
            if "\x00" in text:
                raise ValueError(f"the value of {name} contains NUL")
        return value

    @field_validator("runtime")
    @classmethod
    def _known_runtime(cls, value: str) -> str:
        if value not in (*BUILT_IN_RUNTIMES, *CUSTOM_RUNTIMES, CUSTOM_CONTAINER):
            known = ", ".join((*BUILT_IN_RUNTIMES, *CUSTOM_RUNTIMES, CUSTOM_CONTAINER))
            raise ValueError(f"unsupported runtime '{value}'; fcemu runs: {known}")
        return value

    @model_validator(mode="after")
    def _runtime_config_present(self) -> FunctionManifest:
        unknown = sorted(set(self.model_extra or {}) - IGNORED_FC_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)} (FC 3.0 CreateFunctionInput names expected)")
        self._take_lifecycle_initializer()
        if self.runtime == CUSTOM_CONTAINER and self.customContainerConfig is None:
            raise ValueError("runtime custom-container needs customContainerConfig.image")
        if self.runtime in CUSTOM_RUNTIMES and self.customRuntimeConfig is None:
            raise ValueError(f"runtime {self.runtime} needs customRuntimeConfig.command")
        for trigger in self.triggers:
            topic = topic_of_source_arn(trigger.sourceArn) if trigger.triggerType == "mns_topic" else None
            if topic and "topicName" not in trigger.triggerConfig:
                trigger.triggerConfig = {**trigger.triggerConfig, "topicName": topic}
            try:
                trigger.triggerConfig = check_trigger(trigger.triggerType, trigger.triggerConfig)
            except TriggerError as error:
                raise ValueError(f"trigger '{trigger.triggerName}': {error}") from error
        return self

    def _take_lifecycle_initializer(self) -> None:
        """FC 3.0's instanceLifecycleConfig.initializer means what FC 2.0's initializer/initializationTimeout do."""
        hook = self.instanceLifecycleConfig.initializer if self.instanceLifecycleConfig else None
        if hook is None or not hook.handler:
            return
        if self.initializer and self.initializer != hook.handler:
            raise ValueError(f"initializer '{self.initializer}' and instanceLifecycleConfig.initializer.handler "
                             f"'{hook.handler}' differ; give one of them")
        self.initializer = hook.handler
        if "timeout" in hook.model_fields_set or "initializationTimeout" not in self.model_fields_set:
            self.initializationTimeout = hook.timeout

    @property
    def pre_stop(self) -> LifecycleHook | None:
        """FC's PreStop hook, when the function configures one with a handler."""
        hook = self.instanceLifecycleConfig.preStop if self.instanceLifecycleConfig else None
        return hook if hook is not None and hook.handler else None

    def injects_credentials(self, where: Literal["Env", "Request"]) -> bool:
        """Whether a function with a role gets its credentials there (FC's disableInjectCredentials)."""
        return self.disableInjectCredentials not in (where, "All")

    @property
    def max_instances(self) -> int | None:
        """FC's reserved concurrency, read here as the most instances this function may have."""
        if self.concurrencyConfig is None:
            return None
        return self.concurrencyConfig.reservedConcurrency

    @property
    def api_version(self) -> str:
        """FC 3.0 unless declared otherwise. The API sets the field on the functions it deploys; one stored before
        the field existed is FC 2.0 when its name says it is in a 2.0 service other than the default
        ('service$function')."""
        if self.apiVersion is not None:
            return self.apiVersion
        return FC2_API_VERSION if "$" in self.functionName else FC3_API_VERSION

    @property
    def agent_port(self) -> int:
        if self.customContainerConfig is not None:
            return self.customContainerConfig.port
        if self.customRuntimeConfig is not None:
            return self.customRuntimeConfig.port
        return 9000

    @property
    def runtime_family(self) -> RuntimeFamily:
        if self.runtime in PYTHON_RUNTIMES:
            return "python"
        if self.runtime in NODEJS_RUNTIMES:
            return "nodejs"
        if self.runtime in GO_RUNTIMES:
            return "go"
        if self.runtime in JAVA_RUNTIMES:
            return "java"
        if self.runtime in CUSTOM_RUNTIMES:
            return "custom"
        return "custom-container"
