"""A toy LLM with TensorRT-LLM's interface and known delays: its first token `first_token_ms` after the request
arrives, each next one `token_ms` later (on a schedule, so that sleeping late does not add up), `max_tokens` of
them. Streamed (`stream` true), a token a response and a last empty response with the completion flag;
otherwise one response with the whole answer."""

import json
import time

import numpy as np
import triton_python_backend_utils as pb_utils


def _scalar(request, name, default):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return tensor.as_numpy().flatten()[0] if tensor is not None else default


def _text(text):
    return pb_utils.InferenceResponse([pb_utils.Tensor("text_output", np.array([[text.encode()]], dtype=np.object_))])


class TritonPythonModel:
    def initialize(self, args):
        params = json.loads(args["model_config"]).get("parameters", {})
        self.first_s = float(params["first_token_ms"]["string_value"]) / 1000.0
        self.gap_s = float(params["token_ms"]["string_value"]) / 1000.0

    def execute(self, requests):
        for request in requests:
            started = time.monotonic()
            sender = request.get_response_sender()
            count = int(_scalar(request, "max_tokens", 16))
            stream = bool(_scalar(request, "stream", False))
            words = []
            for index in range(count):
                delay = started + self.first_s + index * self.gap_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                word = f" w{index % 50}"
                if stream:
                    sender.send(_text(word))
                else:
                    words.append(word)
            if stream:
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            else:
                sender.send(_text("".join(words)), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
