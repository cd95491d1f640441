"""The delivery engine: Standard Webhooks signing, the SSRF guard, the HTTP sender,
the retry policy and the worker loop. It knows storage, never Flask."""
