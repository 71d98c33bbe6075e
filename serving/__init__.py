"""The BentoML-specific runtime around the Dr. Skin service (``service.py``).

``service.py`` holds only the three BentoML services and their APIs; this package holds what they run on:

* ``settings``: every ``DRSKIN_*`` environment setting and the service's fixed texts and status maps;
* ``http``: the upload-only multipart parser, the ``UploadGuard`` ASGI middleware and ``{"error": ...}`` bodies;
* ``store``: the models in the BentoML store (references, configs, versions) and the not-a-lesion calibration;
* ``info``: ``GET /info`` (what is served) and the ``GET /`` page, as a small Starlette app;
* ``inputs``: a request's photo and patient context, or the error response saying what was wrong;
* ``responses``: a diagnosis (``skin_models.pipeline``) as the API's response models (``skin_models.contract``);
* ``runtime``: the model workers' thread limits and warm-up, and the retrying call to an internal batch API.

Model logic stays in ``skin_models``; the response models are ``skin_models.contract``. Packed into the bento by
``bentofile.yaml``; the site's image never gets it.
"""
