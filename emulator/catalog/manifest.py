"""A function's manifest, with FC 3.0's `CreateFunctionInput` field names and limits."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emulator.triggers.trigger_config import TriggerError, check_trigger

FUNCTION_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$-]{0,127}$"
PYTHON_RUNTIMES = ("python3", "python3.9", "python3.10", "python3.12")
NODEJS_RUNTIMES = ("nodejs14", "nodejs16", "nodejs18", "nodejs20")
CUSTOM_RUNTIMES = ("custom", "custom.debian10", "custom.debian11", "custom.debian12")
CUSTOM_CONTAINER = "custom-container"

# Fields FC accepts that mean nothing on one machine: taken so real configs load, otherwise unused.
IGNORED_FC_FIELDS = frozenset(
    {
        "role", "logConfig", "vpcConfig", "nasConfig", "ossMountConfig", "layers", "tags", "internetAccess",
        "gpuConfig", "tracingConfig", "instanceLifecycleConfig", "code", "codeChecksum", "diskSize", "cpu",
        "sessionAffinity", "sessionAffinityConfig", "enableLongLiving", "idleTimeout",
    }
)


class _FCModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CustomContainerConfig(_FCModel):
    image: str = Field(min_length=1)
    # FC 3.0 names: entrypoint is the program, command its arguments.
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    port: int = Field(9000, ge=1, le=65535)
    healthCheckConfig: dict[str, Any] | None = None
    accelerationType: str | None = None
    acrInstanceId: str | None = None


class CustomRuntimeConfig(_FCModel):
    command: list[str] = Field(min_length=1)
    args: list[str] | None = None
    port: int = Field(9000, ge=1, le=65535)
    healthCheckConfig: dict[str, Any] | None = None


class Destination(_FCModel):
    destination: str = Field(min_length=1)


class DestinationConfig(_FCModel):
    onSuccess: Destination | None = None
    onFailure: Destination | None = None


class AsyncInvokeConfig(_FCModel):
    maxAsyncRetryAttempts: int = Field(3, ge=0, le=8)
    maxAsyncEventAgeInSeconds: int = Field(86400, ge=1, le=604800)
    asyncTask: bool = False
    destinationConfig: DestinationConfig | None = None


class ConcurrencyConfig(_FCModel):
    reservedConcurrency: int = Field(ge=0, le=256)


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
    runtime: str
    handler: str = Field(min_length=1, max_length=128)
    description: str = Field("", max_length=256)
    memorySize: int = Field(512, ge=128, le=32768)
    timeout: int = Field(3, ge=1, le=86400)
    instanceConcurrency: int = Field(1, ge=1, le=200)
    environmentVariables: dict[str, str] = Field(default_factory=dict)
    initializer: str | None = Field(None, max_length=128)
    initializationTimeout: int = Field(3, ge=1, le=600)
    customContainerConfig: CustomContainerConfig | None = None
    customRuntimeConfig: CustomRuntimeConfig | None = None
    asyncInvokeConfig: AsyncInvokeConfig | None = None
    concurrencyConfig: ConcurrencyConfig | None = None
    triggers: list[Trigger] = Field(default_factory=list)

    @field_validator("memorySize")
    @classmethod
    def _memory_in_steps_of_64(cls, value: int) -> int:
        if value % 64:
            raise ValueError("must be a multiple of 64 (MB)")
        return value

    @field_validator("runtime")
    @classmethod
    def _known_runtime(cls, value: str) -> str:
        if value not in (*PYTHON_RUNTIMES, *NODEJS_RUNTIMES, *CUSTOM_RUNTIMES, CUSTOM_CONTAINER):
            known = ", ".join((*PYTHON_RUNTIMES, *NODEJS_RUNTIMES, *CUSTOM_RUNTIMES, CUSTOM_CONTAINER))
            raise ValueError(f"unsupported runtime '{value}'; fcemu runs: {known}")
        return value

    @model_validator(mode="after")
    def _runtime_config_present(self) -> FunctionManifest:
        unknown = sorted(set(self.model_extra or {}) - IGNORED_FC_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)} (FC 3.0 CreateFunctionInput names expected)")
        if self.runtime == CUSTOM_CONTAINER and self.customContainerConfig is None:
            raise ValueError("runtime custom-container needs customContainerConfig.image")
        if self.runtime in CUSTOM_RUNTIMES and self.customRuntimeConfig is None:
            raise ValueError(f"runtime {self.runtime} needs customRuntimeConfig.command")
        for trigger in self.triggers:
            try:
                trigger.triggerConfig = check_trigger(trigger.triggerType, trigger.triggerConfig)
            except TriggerError as error:
                raise ValueError(f"trigger '{trigger.triggerName}': {error}") from error
        return self

    @property
    def max_instances(self) -> int | None:
        """FC's reserved concurrency, read here as the most instances this function may have."""
        if self.concurrencyConfig is None:
            return None
        return self.concurrencyConfig.reservedConcurrency

    @property
    def agent_port(self) -> int:
        if self.customContainerConfig is not None:
            return self.customContainerConfig.port
        if self.customRuntimeConfig is not None:
            return self.customRuntimeConfig.port
        return 9000

    @property
    def runtime_family(self) -> Literal["python", "nodejs", "custom", "custom-container"]:
        if self.runtime in PYTHON_RUNTIMES:
            return "python"
        if self.runtime in NODEJS_RUNTIMES:
            return "nodejs"
        if self.runtime in CUSTOM_RUNTIMES:
            return "custom"
        return "custom-container"
