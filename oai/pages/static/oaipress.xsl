<?xml version="1.0" encoding="UTF-8"?>
<!--
  oaipress: an OAI-PMH 2.0 response shown readably in a browser (XSLT 1.0).

  Every /oai response names this stylesheet in an xml-stylesheet processing instruction.
  Browsers that still apply XSLT show this page; harvesters ignore the instruction.
  The same responses are rendered on the server at /explore, for browsers that do not.

  Links: "next page" follows the resumptionToken on /oai itself (a query-only URL, so it
  keeps whatever path the endpoint has); the site's pages (/explore, /records/<local id>,
  the CSS) are found next to the endpoint: the baseURL echoed in <request> with its last
  segment "oai" removed.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    exclude-result-prefixes="oai oai_dc dc xsi">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="upper" select="'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"/>
  <xsl:variable name="lower" select="'abcdefghijklmnopqrstuvwxyz'"/>
  <xsl:variable name="request" select="/oai:OAI-PMH/oai:request"/>
  <xsl:variable name="base" select="normalize-space($request)"/>
  <xsl:variable name="verb" select="string($request/@verb)"/>
  <xsl:variable name="site">
    <xsl:choose>
      <xsl:when test="substring($base, string-length($base) - 3) = '/oai'">
        <xsl:value-of select="substring($base, 1, string-length($base) - 3)"/>
      </xsl:when>
      <xsl:otherwise>/</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <!-- the format of the records shown: the request's, else the one every OAI-PMH
       repository must offer (§3.4) -->
  <xsl:variable name="prefix">
    <xsl:choose>
      <xsl:when test="$request/@metadataPrefix">
        <xsl:value-of select="$request/@metadataPrefix"/>
      </xsl:when>
      <xsl:otherwise>oai_dc</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <!-- ============================================================ the page -->

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex, nofollow"/>
        <title>
          <xsl:call-template name="heading"/>
          <xsl:text> · OAI-PMH</xsl:text>
        </title>
        <link rel="stylesheet" href="{$site}static/oaipress.css"/>
        <link rel="stylesheet" href="{$site}static/explore.css"/>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site">
          <div class="wrap">
            <a class="brand" href="{$site}">
              <xsl:choose>
                <xsl:when test="//oai:Identify/oai:repositoryName">
                  <xsl:value-of select="//oai:Identify/oai:repositoryName"/>
                </xsl:when>
                <xsl:otherwise>Repository home</xsl:otherwise>
              </xsl:choose>
            </a>
            <nav aria-label="Site">
              <ul>
                <li><a href="{$site}browse">Browse</a></li>
                <li><a href="{$site}explore">Explore the endpoint</a></li>
                <li><a href="?verb=Identify">OAI-PMH</a></li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" class="wrap explore">
          <h1><xsl:call-template name="heading"/></h1>
          <p class="notice">
            <xsl:text>This is an OAI-PMH response: an XML document for harvesting software, </xsl:text>
            <xsl:text>shown readably by your browser. </xsl:text>
            <a>
              <xsl:attribute name="href"><xsl:call-template name="explore-href"/></xsl:attribute>
              <xsl:text>The same response as a web page</xsl:text>
            </a>
            <xsl:text> also works where browsers no longer apply XSLT.</xsl:text>
          </p>
          <dl class="facts">
            <dt>Request</dt>
            <dd>
              <code>
                <xsl:value-of select="$base"/>
                <xsl:for-each select="$request/@*">
                  <xsl:choose>
                    <xsl:when test="position() = 1">?</xsl:when>
                    <xsl:otherwise>&amp;</xsl:otherwise>
                  </xsl:choose>
                  <xsl:value-of select="concat(name(), '=', .)"/>
                </xsl:for-each>
              </code>
            </dd>
            <dt>Response date</dt>
            <dd><xsl:value-of select="/oai:OAI-PMH/oai:responseDate"/></dd>
          </dl>
          <xsl:apply-templates select="/oai:OAI-PMH/*[not(self::oai:responseDate or self::oai:request)]"/>
        </main>
        <footer class="site">
          <div class="wrap">
            <p>OAI-PMH 2.0 base URL: <code><xsl:value-of select="$base"/></code></p>
          </div>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="heading">
    <xsl:choose>
      <xsl:when test="/oai:OAI-PMH/oai:error">OAI-PMH error</xsl:when>
      <xsl:when test="$verb = 'GetRecord'">
        <xsl:text>Record: </xsl:text>
        <xsl:call-template name="title">
          <xsl:with-param name="record" select="//oai:GetRecord/oai:record"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:when test="$verb = 'Identify'">About this repository (Identify)</xsl:when>
      <xsl:when test="$verb = 'ListMetadataFormats'">Metadata formats (ListMetadataFormats)</xsl:when>
      <xsl:when test="$verb = 'ListSets'">Sets (ListSets)</xsl:when>
      <xsl:when test="$verb = 'ListIdentifiers'">Record headers (ListIdentifiers)</xsl:when>
      <xsl:when test="$verb = 'ListRecords'">Records (ListRecords)</xsl:when>
      <xsl:otherwise>OAI-PMH response</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ============================================================ errors (§3.6) -->

  <xsl:template match="oai:error">
    <section class="oai-error">
      <h2>Error <code><xsl:value-of select="@code"/></code></h2>
      <xsl:if test="normalize-space()">
        <p class="notice bad"><xsl:value-of select="."/></p>
      </xsl:if>
      <p>
        <xsl:choose>
          <xsl:when test="@code = 'badVerb'">The verb argument is missing, repeated or not one of the six OAI-PMH verbs. Use Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords or GetRecord.</xsl:when>
          <xsl:when test="@code = 'badArgument'">The request has an argument its verb does not take, lacks a required one, repeats one, or a value has the wrong form. Dates are YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.</xsl:when>
          <xsl:when test="@code = 'badResumptionToken'">The resumption token is invalid or has expired. Start the list again from its first page.</xsl:when>
          <xsl:when test="@code = 'cannotDisseminateFormat'">The metadata format is not offered by this repository, or not for this record. ListMetadataFormats names the formats there are.</xsl:when>
          <xsl:when test="@code = 'idDoesNotExist'">No record has this identifier here. Identifiers look like the sample identifier in Identify.</xsl:when>
          <xsl:when test="@code = 'noRecordsMatch'">No records match this format, date range and set. Widen the dates or pick another set.</xsl:when>
          <xsl:when test="@code = 'noMetadataFormats'">This record is not available in any metadata format yet.</xsl:when>
          <xsl:when test="@code = 'noSetHierarchy'">This repository has no sets; ask without the set argument.</xsl:when>
        </xsl:choose>
      </p>
      <p>
        <a href="?verb=Identify">About this repository</a>
        <xsl:text> · </xsl:text>
        <a href="?verb=ListMetadataFormats">Metadata formats</a>
        <xsl:text> · </xsl:text>
        <a href="{$site}explore">Try a request</a>
      </p>
    </section>
  </xsl:template>

  <!-- ============================================================ Identify (§4.2) -->

  <xsl:template match="oai:Identify">
    <dl class="facts">
      <xsl:for-each select="oai:*[not(self::oai:description)]">
        <dt><xsl:call-template name="human"><xsl:with-param name="name" select="local-name()"/></xsl:call-template></dt>
        <dd>
          <xsl:choose>
            <xsl:when test="self::oai:adminEmail">
              <a href="mailto:{.}"><xsl:value-of select="."/></a>
            </xsl:when>
            <xsl:otherwise><xsl:call-template name="value"/></xsl:otherwise>
          </xsl:choose>
        </dd>
      </xsl:for-each>
    </dl>
    <xsl:for-each select="oai:description">
      <h2>Description: <xsl:call-template name="human"><xsl:with-param name="name" select="local-name(*)"/></xsl:call-template></h2>
      <ul class="outline"><xsl:apply-templates select="*" mode="outline"/></ul>
    </xsl:for-each>
    <h2>Next</h2>
    <ul>
      <li><a href="?verb=ListMetadataFormats">The metadata formats</a></li>
      <li><a href="?verb=ListSets">The sets</a></li>
      <li><a href="?verb=ListRecords&amp;metadataPrefix=oai_dc">All records in Dublin Core</a></li>
    </ul>
  </xsl:template>

  <!-- ============================================================ ListMetadataFormats (§4.4) -->

  <xsl:template match="oai:ListMetadataFormats">
    <div class="table-scroll">
      <table>
        <thead><tr><th scope="col">Prefix</th><th scope="col">Namespace and schema</th><th scope="col">Records</th></tr></thead>
        <tbody>
          <xsl:for-each select="oai:metadataFormat">
            <tr>
              <th scope="row"><code><xsl:value-of select="oai:metadataPrefix"/></code></th>
              <td>
                <code><xsl:value-of select="oai:metadataNamespace"/></code><br/>
                <a href="{oai:schema}"><xsl:value-of select="oai:schema"/></a>
              </td>
              <td>
                <xsl:choose>
                  <xsl:when test="$request/@identifier">
                    <a>
                      <xsl:attribute name="href">
                        <xsl:text>?verb=GetRecord&amp;metadataPrefix=</xsl:text>
                        <xsl:call-template name="escape"><xsl:with-param name="s" select="oai:metadataPrefix"/></xsl:call-template>
                        <xsl:text>&amp;identifier=</xsl:text>
                        <xsl:call-template name="escape"><xsl:with-param name="s" select="$request/@identifier"/></xsl:call-template>
                      </xsl:attribute>
                      <xsl:text>This record in </xsl:text><xsl:value-of select="oai:metadataPrefix"/>
                    </a>
                  </xsl:when>
                  <xsl:otherwise>
                    <a href="?verb=ListRecords&amp;metadataPrefix={oai:metadataPrefix}">List records in <xsl:value-of select="oai:metadataPrefix"/></a>
                  </xsl:otherwise>
                </xsl:choose>
              </td>
            </tr>
          </xsl:for-each>
        </tbody>
      </table>
    </div>
  </xsl:template>

  <!-- ============================================================ ListSets (§4.6) -->

  <xsl:template match="oai:ListSets">
    <xsl:call-template name="position"/>
    <div class="table-scroll">
      <table>
        <thead><tr><th scope="col">Set</th><th scope="col">Name and description</th><th scope="col">Records</th></tr></thead>
        <tbody>
          <xsl:for-each select="oai:set">
            <tr>
              <th scope="row"><code><xsl:value-of select="oai:setSpec"/></code></th>
              <td>
                <xsl:value-of select="oai:setName"/>
                <xsl:for-each select="oai:setDescription//dc:description">
                  <br/><span class="muted"><xsl:value-of select="."/></span>
                </xsl:for-each>
              </td>
              <td><a href="?verb=ListIdentifiers&amp;metadataPrefix=oai_dc&amp;set={oai:setSpec}">Headers in this set</a></td>
            </tr>
          </xsl:for-each>
        </tbody>
      </table>
    </div>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <!-- ============================================================ ListIdentifiers (§4.3) -->

  <xsl:template match="oai:ListIdentifiers">
    <xsl:call-template name="position"/>
    <div class="table-scroll">
      <table>
        <thead><tr><th scope="col">Identifier</th><th scope="col">Datestamp</th><th scope="col">Sets</th><th scope="col">Pages</th></tr></thead>
        <tbody>
          <xsl:for-each select="oai:header">
            <tr>
              <th scope="row">
                <a>
                  <xsl:attribute name="href"><xsl:call-template name="getrecord-href"/></xsl:attribute>
                  <xsl:value-of select="oai:identifier"/>
                </a>
                <xsl:if test="@status = 'deleted'"> <span class="badge bad">withdrawn</span></xsl:if>
              </th>
              <td><xsl:value-of select="oai:datestamp"/></td>
              <td><xsl:for-each select="oai:setSpec"><code><xsl:value-of select="."/></code><xsl:text> </xsl:text></xsl:for-each></td>
              <td><xsl:call-template name="landing-link"/></td>
            </tr>
          </xsl:for-each>
        </tbody>
      </table>
    </div>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <!-- ============================================================ ListRecords, GetRecord -->

  <xsl:template match="oai:ListRecords">
    <xsl:call-template name="position"/>
    <xsl:apply-templates select="oai:record"/>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:GetRecord">
    <xsl:apply-templates select="oai:record"/>
  </xsl:template>

  <xsl:template match="oai:record">
    <article class="record">
      <h2>
        <xsl:choose>
          <xsl:when test="$verb = 'GetRecord'">
            <xsl:text>The record in </xsl:text><xsl:value-of select="$prefix"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:call-template name="title"><xsl:with-param name="record" select="."/></xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
        <xsl:if test="oai:header/@status = 'deleted'"> <span class="badge bad">withdrawn</span></xsl:if>
      </h2>
      <xsl:for-each select="oai:header">
        <dl class="facts">
          <dt>Identifier</dt><dd><code><xsl:value-of select="oai:identifier"/></code></dd>
          <dt>Datestamp</dt><dd><xsl:value-of select="oai:datestamp"/></dd>
          <xsl:if test="oai:setSpec">
            <dt>Sets</dt>
            <dd><xsl:for-each select="oai:setSpec"><code><xsl:value-of select="."/></code><xsl:text> </xsl:text></xsl:for-each></dd>
          </xsl:if>
          <xsl:if test="@status = 'deleted'">
            <dt>Status</dt><dd>Withdrawn (deleted) on <xsl:value-of select="oai:datestamp"/>; only its header remains.</dd>
          </xsl:if>
        </dl>
        <p>
          <xsl:call-template name="landing-link"/>
          <xsl:if test="$verb = 'ListRecords'">
            <xsl:text> · </xsl:text>
            <a>
              <xsl:attribute name="href"><xsl:call-template name="getrecord-href"/></xsl:attribute>
              <xsl:text>This record alone</xsl:text>
            </a>
          </xsl:if>
          <xsl:text> · </xsl:text>
          <a>
            <xsl:attribute name="href">
              <xsl:text>?verb=ListMetadataFormats&amp;identifier=</xsl:text>
              <xsl:call-template name="escape"><xsl:with-param name="s" select="oai:identifier"/></xsl:call-template>
            </xsl:attribute>
            <xsl:text>Its formats</xsl:text>
          </a>
        </p>
      </xsl:for-each>
      <xsl:apply-templates select="oai:metadata/*"/>
      <xsl:for-each select="oai:about">
        <details>
          <summary>About this record (provenance, rights of the metadata)</summary>
          <ul class="outline"><xsl:apply-templates select="*" mode="outline"/></ul>
        </details>
      </xsl:for-each>
    </article>
  </xsl:template>

  <!-- Dublin Core: one term and its values per line -->
  <xsl:template match="oai_dc:dc" priority="1">
    <dl class="facts">
      <xsl:for-each select="dc:*">
        <xsl:if test="not(local-name(preceding-sibling::dc:*[1]) = local-name())">
          <dt><xsl:call-template name="human"><xsl:with-param name="name" select="local-name()"/></xsl:call-template></dt>
        </xsl:if>
        <dd><xsl:call-template name="value"/></dd>
      </xsl:for-each>
    </dl>
  </xsl:template>

  <!-- Any other format: its elements as a nested outline -->
  <xsl:template match="oai:metadata/*">
    <ul class="outline"><xsl:apply-templates select="." mode="outline"/></ul>
  </xsl:template>

  <xsl:template match="*" mode="outline">
    <li>
      <span class="element"><xsl:call-template name="human"><xsl:with-param name="name" select="local-name()"/></xsl:call-template></span>
      <xsl:if test="@*[not(namespace-uri() = 'http://www.w3.org/2001/XMLSchema-instance')]">
        <xsl:text> </xsl:text>
        <span class="attributes">
          <xsl:for-each select="@*[not(namespace-uri() = 'http://www.w3.org/2001/XMLSchema-instance')]">
            <xsl:if test="position() > 1">, </xsl:if>
            <xsl:call-template name="human"><xsl:with-param name="name" select="local-name()"/></xsl:call-template>
            <xsl:text>: </xsl:text>
            <xsl:call-template name="value"/>
          </xsl:for-each>
        </span>
      </xsl:if>
      <xsl:choose>
        <xsl:when test="*">
          <ul><xsl:apply-templates select="*" mode="outline"/></ul>
        </xsl:when>
        <xsl:when test="normalize-space()">
          <xsl:text>: </xsl:text>
          <span class="text"><xsl:call-template name="value"/></span>
        </xsl:when>
      </xsl:choose>
    </li>
  </xsl:template>

  <!-- ============================================================ flow control (§3.5) -->

  <xsl:template name="position">
    <xsl:variable name="token" select="oai:resumptionToken"/>
    <xsl:variable name="count" select="count(oai:record | oai:header | oai:set)"/>
    <xsl:variable name="first">
      <xsl:choose>
        <xsl:when test="$token/@cursor"><xsl:value-of select="$token/@cursor + 1"/></xsl:when>
        <xsl:otherwise>1</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <p class="position">
      <xsl:choose>
        <xsl:when test="oai:set">Sets </xsl:when>
        <xsl:otherwise>Records </xsl:otherwise>
      </xsl:choose>
      <xsl:value-of select="format-number($first, '#,##0')"/>
      <xsl:text>–</xsl:text>
      <xsl:value-of select="format-number($first + $count - 1, '#,##0')"/>
      <xsl:text> of </xsl:text>
      <xsl:choose>
        <xsl:when test="$token/@completeListSize">
          <xsl:value-of select="format-number($token/@completeListSize, '#,##0')"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="format-number($count, '#,##0')"/></xsl:otherwise>
      </xsl:choose>
    </p>
  </xsl:template>

  <xsl:template match="oai:resumptionToken">
    <nav class="pager" aria-label="Pages">
      <xsl:choose>
        <xsl:when test="normalize-space()">
          <a class="button" rel="next" href="?verb={$verb}&amp;resumptionToken={normalize-space()}">Next page</a>
          <xsl:if test="@expirationDate">
            <span class="muted">The link works until <xsl:value-of select="@expirationDate"/>.</span>
          </xsl:if>
        </xsl:when>
        <xsl:otherwise><span class="muted">This is the last page.</span></xsl:otherwise>
      </xsl:choose>
    </nav>
  </xsl:template>

  <!-- ============================================================ helpers -->

  <!-- A record's title in any of the formats served, else its identifier. -->
  <xsl:template name="title">
    <xsl:param name="record"/>
    <xsl:variable name="meta" select="$record/oai:metadata"/>
    <xsl:variable name="marc" select="$meta//*[local-name() = 'datafield'][@tag = '245']/*[@code = 'a']"/>
    <xsl:variable name="named" select="$meta//*[local-name() = 'title' or local-name() = 'article-title']"/>
    <xsl:choose>
      <xsl:when test="$marc"><xsl:value-of select="normalize-space($marc[1])"/></xsl:when>
      <xsl:when test="$named"><xsl:value-of select="normalize-space($named[1])"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$record/oai:header/oai:identifier"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The landing page of the record whose header is the context node. -->
  <xsl:template name="landing-link">
    <xsl:variable name="id" select="string(oai:identifier)"/>
    <xsl:if test="starts-with($id, 'oai:') and contains(substring-after($id, 'oai:'), ':')">
      <a href="{$site}records/{substring-after(substring-after($id, 'oai:'), ':')}">
        <xsl:choose>
          <xsl:when test="@status = 'deleted'">Landing page (withdrawn)</xsl:when>
          <xsl:otherwise>Landing page</xsl:otherwise>
        </xsl:choose>
      </a>
    </xsl:if>
  </xsl:template>

  <xsl:template name="getrecord-href">
    <xsl:text>?verb=GetRecord&amp;metadataPrefix=</xsl:text>
    <xsl:call-template name="escape"><xsl:with-param name="s" select="$prefix"/></xsl:call-template>
    <xsl:text>&amp;identifier=</xsl:text>
    <xsl:call-template name="escape"><xsl:with-param name="s" select="oai:identifier"/></xsl:call-template>
  </xsl:template>

  <!-- /explore with this response's arguments (those the request element echoes). -->
  <xsl:template name="explore-href">
    <xsl:value-of select="$site"/>
    <xsl:text>explore</xsl:text>
    <xsl:for-each select="$request/@*">
      <xsl:choose>
        <xsl:when test="position() = 1">?</xsl:when>
        <xsl:otherwise>&amp;</xsl:otherwise>
      </xsl:choose>
      <xsl:value-of select="name()"/>
      <xsl:text>=</xsl:text>
      <xsl:call-template name="escape"><xsl:with-param name="s" select="."/></xsl:call-template>
    </xsl:for-each>
  </xsl:template>

  <!-- A text value; an http(s) URL becomes a link. -->
  <xsl:template name="value">
    <xsl:variable name="v" select="normalize-space(.)"/>
    <xsl:choose>
      <xsl:when test="(starts-with($v, 'http://') or starts-with($v, 'https://')) and not(contains($v, ' '))">
        <a href="{$v}"><xsl:value-of select="$v"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="."/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Percent-encodes the characters that would end or split a query value
       (% & # + and space); the browser encodes the rest. -->
  <xsl:template name="escape">
    <xsl:param name="s"/>
    <xsl:if test="string-length($s) > 0">
      <xsl:variable name="c" select="substring($s, 1, 1)"/>
      <xsl:choose>
        <xsl:when test="$c = '%'">%25</xsl:when>
        <xsl:when test="$c = '&amp;'">%26</xsl:when>
        <xsl:when test="$c = '#'">%23</xsl:when>
        <xsl:when test="$c = '+'">%2B</xsl:when>
        <xsl:when test="$c = ' '">%20</xsl:when>
        <xsl:otherwise><xsl:value-of select="$c"/></xsl:otherwise>
      </xsl:choose>
      <xsl:call-template name="escape"><xsl:with-param name="s" select="substring($s, 2)"/></xsl:call-template>
    </xsl:if>
  </xsl:template>

  <!-- An element or attribute name for people: "dateIssued" → "Date issued",
       "rightsURI" → "Rights URI", "copyright-statement" → "Copyright statement". -->
  <xsl:template name="human">
    <xsl:param name="name"/>
    <xsl:if test="$name = 'lang'">Language</xsl:if>
    <xsl:if test="$name != 'lang'">
    <xsl:value-of select="translate(substring($name, 1, 1), $lower, $upper)"/>
    <xsl:call-template name="human-rest">
      <xsl:with-param name="s" select="substring($name, 2)"/>
      <xsl:with-param name="previous" select="substring($name, 1, 1)"/>
    </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template name="human-rest">
    <xsl:param name="s"/>
    <xsl:param name="previous"/>
    <xsl:if test="string-length($s) > 0">
      <xsl:variable name="c" select="substring($s, 1, 1)"/>
      <xsl:choose>
        <xsl:when test="$c = '-' or $c = '_'"><xsl:text> </xsl:text></xsl:when>
        <xsl:when test="contains($upper, $c) and contains($lower, $previous)">
          <xsl:text> </xsl:text>
          <xsl:choose>
            <!-- an acronym keeps its capitals: rightsURI -->
            <xsl:when test="contains($upper, substring($s, 2, 1)) and substring($s, 2, 1) != ''">
              <xsl:value-of select="$c"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="translate($c, $upper, $lower)"/></xsl:otherwise>
          </xsl:choose>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="$c"/></xsl:otherwise>
      </xsl:choose>
      <xsl:call-template name="human-rest">
        <xsl:with-param name="s" select="substring($s, 2)"/>
        <xsl:with-param name="previous" select="$c"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

</xsl:stylesheet>
