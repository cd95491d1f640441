<?php
// PHP's own side of the wire-format tests (tests/delivery/php_wire.py runs it):
//   build  what BillRun's PHP writes: http_build_query($data, '', '&') of each job item
//   parse  how PHP reads a body back: parse_str() of each (base64) body
//   post   what BillRun does with a webhook: http_build_query, then a POST with curl and the
//          headers of BillRun's Zend_Http_Client (Curl adapter), and parse_str() of the same body.
//          libcurl adds "Expect: 100-continue" by itself over its threshold: 1 KB in older releases
//          (still on many BillRun servers), 1 MB in current ones; with "expect_100_over" the job
//          asks for the older behaviour, which libcurl then follows (it waits for the 100).
// The job is JSON on stdin; the answer is JSON on stdout. parse_str results come with every key and
// string as hex, so that the exact bytes PHP decoded (valid UTF-8 or not) travel through JSON.

declare(strict_types=1);

/** JSON values as the PHP values BillRun holds; {"__float__": "INF"} is a float JSON cannot write. */
function php_values(mixed $value): mixed
{
    if (!is_array($value)) {
        return $value;
    }
    if (array_keys($value) === ['__float__']) {
        return match ($value['__float__']) {
            'INF' => INF,
            '-INF' => -INF,
            'NAN' => NAN,
            default => (float) $value['__float__'],
        };
    }
    return array_map('php_values', $value);
}

function hexed(mixed $value): mixed
{
    if (!is_array($value)) {
        return bin2hex((string) $value);
    }
    $out = [];
    foreach ($value as $key => $item) {
        $out[bin2hex((string) $key)] = hexed($item);
    }
    return (object) $out;
}

function parsed(string $body): object
{
    parse_str($body, $result);
    return hexed($result);
}

/** One delivery, as Billrun_Util::sendRequest() sends it through Zend_Http_Client_Adapter_Curl. */
function post(string $url, mixed $data, ?int $expectOver): array
{
    $body = http_build_query(php_values($data), '', '&');
    $headers = [
        'Connection: close',
        'Accept-encoding: deflate',
        'Content-Type: application/x-www-form-urlencoded',
        'User-Agent: Zend_Http_Client',
        'Accept:', // the Curl adapter sets Accept to '', which removes curl's own
    ];
    if ($expectOver !== null && strlen($body) > $expectOver) {
        $headers[] = 'Expect: 100-continue';
    }
    $received = [];
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        CURLOPT_HTTP_VERSION => CURL_HTTP_VERSION_1_1,
        CURLOPT_POST => true,
        CURLOPT_HTTPHEADER => $headers,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_RETURNTRANSFER => true,
        CURLINFO_HEADER_OUT => true,
        CURLOPT_HEADERFUNCTION => function ($handle, string $line) use (&$received): int {
            $received[] = rtrim($line, "\r\n");
            return strlen($line);
        },
        CURLOPT_CONNECTTIMEOUT => 10, // Zend's default; BillRun sets no total timeout, a test must
        CURLOPT_TIMEOUT => 60,
    ]);
    $answer = curl_exec($curl);
    $result = [
        'body' => $body,
        'status' => curl_getinfo($curl, CURLINFO_RESPONSE_CODE),
        'answer' => $answer === false ? null : $answer,
        'error' => curl_error($curl),
        'sent' => curl_getinfo($curl, CURLINFO_HEADER_OUT),
        'received' => $received,
        'parsed' => parsed($body),
    ];
    curl_close($curl);
    return $result;
}

$job = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$answer = match ($argv[1] ?? '') {
    'build' => array_map(fn ($data) => http_build_query(php_values($data), '', '&'), $job),
    'parse' => array_map(fn ($body) => parsed(base64_decode($body, true)), $job),
    'post' => array_map(fn ($data) => post($job['url'], $data, $job['expect_100_over'] ?? null), $job['deliveries']),
    default => throw new InvalidArgumentException('usage: php php_wire.php build|parse|post < job.json'),
};
echo json_encode($answer, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
