"""A toy LLM with the vLLM backend's interface and known delays: its first token `first_token_ms` after the
request arrives, each next one `token_ms` later (on a schedule), `sampling_parameters.max_tokens` of them (vLLM's
default, 16, without). Streamed, a text delta a response, the last one with the completion flag; otherwise one
response with the whole answer (after the prompt unless `exclude_input_in_output`)."""

import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils


def _input(request, name):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return tensor.as_numpy().flatten()[0] if tensor is not None else None


def _text(text):
    return pb_utils.InferenceResponse([pb_utils.Tensor("text_output", np.array([text.encode()], dtype=np.object_))])


class TritonPythonModel:
    def initialize(self, args):
        params = json.loads(args["model_config"]).get("parameters", {})
        self.first_s = float(params["first_token_ms"]["string_value"]) / 1000.0
        self.gap_s = float(params["token_ms"]["string_value"]) / 1000.0

    def execute(self, requests):
        final = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
        for request in requests:
            started = time.monotonic()
            sender = request.get_response_sender()
            raw = _input(request, "sampling_parameters")
            sampling = json.loads(raw.decode() if isinstance(raw, bytes) else raw) if raw is not None else {}
            count = max(1, int(sampling.get("max_tokens", 16)))
            stream = bool(_input(request, "stream") or False)
            exclude = _input(request, "exclude_input_in_output")
            prompt = _input(request, "text_input")
            answer = "" if exclude is None or bool(exclude) else prompt.decode()
            for index in range(count):
                delay = started + self.first_s + index * self.gap_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                word = f" w{index % 50}"
                if stream:
                    sender.send(_text(word), flags=final if index == count - 1 else 0)
                else:
                    answer += word
            if not stream:
                sender.send(_text(answer), flags=final)
        return None
