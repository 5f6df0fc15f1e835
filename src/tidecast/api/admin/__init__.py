"""The admin command API of seed 001 (Octeth/Oempro style) at ``/api.php``.

``Command=Noun.Verb`` by GET or POST (form or JSON), names and parameters matched without
regard to case; answers ``{Success, ErrorCode, ErrorText, …}`` as JSON, XML
(``ResponseFormat=XML``) or JSONP (``JSONPCallBack``).
"""
